import { ResponderBuilder, ServerInterceptingCall, type ServerInterceptor, type ServerListener } from '@grpc/grpc-js';

/** The call a ServerInterceptor is given. */
type InterceptedCall = Parameters<ServerInterceptor>[1];

/** A ServerInterceptingCall whose reads go through `gate` (which calls `read` when, and if, the read may start). */
class GatedReadCall extends ServerInterceptingCall {
  constructor(
    call: InterceptedCall,
    responder: ConstructorParameters<typeof ServerInterceptingCall>[1],
    private readonly gate: (read: () => void) => void,
  ) {
    super(call, responder);
  }

  override startRead(): void {
    this.gate(() => super.startRead());
  }
}

/**
 * Wraps `call` so that `listener` sees its inbound side and `end` runs once its status is sent,
 * whatever the status: the shared tail of the admission interceptors, which give back what a call
 * held when it ends. `gateRead`, when given, decides when each read the handler asks for starts
 * (grpc-js reads nothing of a message until then).
 */
export function interceptWith(
  call: InterceptedCall,
  listener: ServerListener,
  end: () => void,
  gateRead?: (read: () => void) => void,
): ServerInterceptingCall {
  const responder = new ResponderBuilder()
    .withStart((next) => next(listener))
    .withSendStatus((s, next) => {
      end();
      next(s);
    })
    .build();
  return gateRead ? new GatedReadCall(call, responder, gateRead) : new ServerInterceptingCall(call, responder);
}
