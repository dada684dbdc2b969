export { createAuthInterceptor, type AuthOptions } from './auth-interceptor.js';
export { AUTHORIZATION_KEY, MIN_TOKEN_LENGTH, isWellFormedToken, presentedTokenFrom, type PresentedToken } from './bearer-token.js';
export {
  channelCredentialsFrom,
  clientSecurityFrom,
  createBearerTokenInterceptor,
  type ClientSecurityOptions,
} from './client-security.js';
export { isLoopbackHost } from './is-loopback-host.js';
export { DEFAULT_AUTH_EXEMPT_SERVICES, METHOD_PERMISSIONS, READ_ONLY_SERVICES, permissionFor, serviceNameFromPath, type Permission } from './method-permissions.js';
export { SecurityConfigError } from './security-config-error.js';
export { serverCredentialsFrom, tlsModeOf, type ServerTlsOptions, type TlsMode } from './server-credentials.js';
export { serverSecurityFrom, tokensFrom, type ServerSecurity, type ServerSecurityOptions } from './server-security.js';
export { createTokenSet, type TokenSet } from './token-set.js';
export { parseTokenFile, readTokenFile, type Tokens } from './token-file.js';
export { redactGrpcJsMessage, routeGrpcJsLogs, takeDroppedMetadataKeys } from './grpc-js-log.js';
