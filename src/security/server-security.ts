import type { ServerCredentials, ServerInterceptor } from '@grpc/grpc-js';
import { type AuthOptions, createAuthInterceptor } from './auth-interceptor.js';
import { DEFAULT_AUTH_EXEMPT_SERVICES } from './method-permissions.js';
import { isLoopbackHost } from './is-loopback-host.js';
import { type ServerTlsOptions, serverCredentialsFrom, type TlsMode, tlsModeOf } from './server-credentials.js';
import { readTokenFile, type Tokens } from './token-file.js';

/** Everything the server's security is made from (a subset of TwinlensOptions). */
export interface ServerSecurityOptions extends ServerTlsOptions, AuthOptions {
  /** The address the server binds; decides whether running without tokens deserves a warning. */
  host: string;
  /** A token file (see parseTokenFile), added to readTokens and writeTokens. Default '': none. */
  authTokenFile?: string;
}

/** The pieces createTwinlensServer wires in, with what to tell the operator. */
export interface ServerSecurity {
  /** Credentials for bindAsync: insecure, TLS or mutual TLS. */
  credentials: ServerCredentials;
  /** The bearer-token interceptor; the first entry of the Server's interceptors (a pass-through when auth is off). */
  authInterceptor: ServerInterceptor;
  tlsMode: TlsMode;
  /** Whether calls need a token (some token is configured). */
  authEnabled: boolean;
  /** One line for the start-up log: the TLS mode and token counts, never a token. */
  summary: string;
  /** Risky settings to log as warnings at start, e.g. a non-loopback address without tokens. */
  warnings: string[];
}

/** The tokens of the options and of their token file, merged. */
export function tokensFrom(options: Pick<ServerSecurityOptions, 'readTokens' | 'writeTokens' | 'authTokenFile'>): Tokens {
  const fromFile = options.authTokenFile ? readTokenFile(options.authTokenFile, 'authTokenFile') : { read: [], write: [] };
  return {
    read: [...(options.readTokens ?? []), ...fromFile.read],
    write: [...(options.writeTokens ?? []), ...fromFile.write],
  };
}

/**
 * Reads the TLS and token files (throwing SecurityConfigError naming the option and path when one
 * is unusable) and returns the credentials, the auth interceptor and the start-up messages.
 */
export function serverSecurityFrom(options: ServerSecurityOptions): ServerSecurity {
  const credentials = serverCredentialsFrom(options);
  const tokens = tokensFrom(options);
  const authInterceptor = createAuthInterceptor({
    readTokens: tokens.read,
    writeTokens: tokens.write,
    authExemptServices: options.authExemptServices,
  });
  const tlsMode = tlsModeOf(options);
  const readCount = new Set(tokens.read).size;
  const writeCount = new Set(tokens.write).size;
  const authEnabled = readCount + writeCount > 0;
  const exempt = options.authExemptServices ?? DEFAULT_AUTH_EXEMPT_SERVICES;
  const summary =
    `transport: ${tlsMode}; ` +
    (authEnabled
      ? `bearer tokens: ${readCount} read, ${writeCount} write; no token needed for ${exempt.length ? exempt.join(', ') : 'nothing'}`
      : 'bearer tokens: none (authentication off)');

  const warnings: string[] = [];
  if (!isLoopbackHost(options.host)) {
    if (!authEnabled) {
      warnings.push(
        `binding ${options.host}, which other machines may reach, without bearer tokens: anyone who can connect ` +
          'can search and change the catalog (set readTokens/writeTokens, --read-token/--write-token or a token file)',
      );
    } else if (tlsMode === 'plaintext') {
      warnings.push(`binding ${options.host} without TLS: bearer tokens cross the network in cleartext (set tlsCertFile and tlsKeyFile)`);
    }
  }
  return { credentials, authInterceptor, tlsMode, authEnabled, summary, warnings };
}
