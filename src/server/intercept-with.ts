import { ResponderBuilder, ServerInterceptingCall, type ServerInterceptor, type ServerListener } from '@grpc/grpc-js';

/** The call a ServerInterceptor is given. */
type InterceptedCall = Parameters<ServerInterceptor>[1];

/**
 * Wraps `call` so that `listener` sees its inbound side and `end` runs once its status is sent,
 * whatever the status: the shared tail of the admission interceptors, which give back what a call
 * held when it ends.
 */
export function interceptWith(call: InterceptedCall, listener: ServerListener, end: () => void): ServerInterceptingCall {
  const responder = new ResponderBuilder()
    .withStart((next) => next(listener))
    .withSendStatus((s, next) => {
      end();
      next(s);
    })
    .build();
  return new ServerInterceptingCall(call, responder);
}
