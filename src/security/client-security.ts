import { type ChannelCredentials, credentials, InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { AUTHORIZATION_KEY } from './bearer-token.js';
import { SecurityConfigError } from './security-config-error.js';
import { readOptionFile } from './server-credentials.js';

/** How a client reaches a secured twinlens server. Everything is off by default (plaintext, no token). */
export interface ClientSecurityOptions {
  /** Bearer token sent as `authorization: Bearer <token>` on every call. Default: none. */
  token?: string;
  /** Connect with TLS, verifying the server against the system's CAs. Implied by tlsCaFile and tlsCertFile. Default false. */
  tls?: boolean;
  /** PEM CA certificate(s) to verify the server with, instead of the system's (a private CA). Default ''. */
  tlsCaFile?: string;
  /** PEM client certificate for mutual TLS; needs tlsKeyFile. Default ''. */
  tlsCertFile?: string;
  /** PEM private key of tlsCertFile. Default ''. */
  tlsKeyFile?: string;
}

/**
 * A client interceptor adding `authorization: Bearer <token>` to every call. An interceptor rather
 * than call credentials, because grpc-js refuses call credentials on a plaintext channel, and a
 * token over plaintext loopback is a legitimate set-up.
 */
export function createBearerTokenInterceptor(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(AUTHORIZATION_KEY, `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

/** Plaintext, TLS (system or given CA) or mutual TLS (with a client certificate) channel credentials. */
export function channelCredentialsFrom(options: ClientSecurityOptions): ChannelCredentials {
  if (!options.tls && !options.tlsCaFile && !options.tlsCertFile && !options.tlsKeyFile) return credentials.createInsecure();
  if (Boolean(options.tlsCertFile) !== Boolean(options.tlsKeyFile)) {
    throw new SecurityConfigError(options.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile', '', 'a client certificate needs both tlsCertFile and tlsKeyFile');
  }
  const ca = options.tlsCaFile ? readOptionFile('tlsCaFile', options.tlsCaFile) : null;
  const key = options.tlsKeyFile ? readOptionFile('tlsKeyFile', options.tlsKeyFile) : null;
  const cert = options.tlsCertFile ? readOptionFile('tlsCertFile', options.tlsCertFile) : null;
  return credentials.createSsl(ca, key, cert);
}

/** Channel credentials and client options (`interceptors`) for a grpc-js client constructor. */
export function clientSecurityFrom(options: ClientSecurityOptions): { credentials: ChannelCredentials; interceptors: Interceptor[] } {
  return {
    credentials: channelCredentialsFrom(options),
    interceptors: options.token ? [createBearerTokenInterceptor(options.token)] : [],
  };
}
