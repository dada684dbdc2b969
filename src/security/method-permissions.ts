/**
 * Services callable without a token by default: health checking (load balancers and orchestrators
 * probe it without credentials) and server reflection v1 and v1alpha (`grpcurl list`, `buf curl`).
 * They reveal only liveness and the public schema. TwinlensOptions.authExemptServices overrides it.
 */
export const DEFAULT_AUTH_EXEMPT_SERVICES: readonly string[] = Object.freeze([
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
]);

/** What a call needs: nothing (an exempt service), a read token, or a write token. */
export type Permission = 'none' | 'read' | 'write';

/**
 * The permission of every twinlens method, by gRPC path. Reads look at the catalog or the model;
 * writes change the catalog. A twinlens method missing here needs a write token (deny by
 * default), so a new method is never open to read tokens by accident;
 * test/security/method-permissions.test.ts fails until it is listed.
 */
export const METHOD_PERMISSIONS: Readonly<Record<string, 'read' | 'write'>> = Object.freeze({
  '/twinlens.v1.TwinlensService/Search': 'read',
  '/twinlens.v1.TwinlensService/Compare': 'read',
  '/twinlens.v1.TwinlensService/CompareStream': 'read',
  '/twinlens.v1.TwinlensService/Embed': 'read',
  '/twinlens.v1.TwinlensService/GetServiceInfo': 'read',
  '/twinlens.v1.CatalogService/GetItem': 'read',
  '/twinlens.v1.CatalogService/ListItems': 'read',
  '/twinlens.v1.CatalogService/GetCatalogStats': 'read',
  '/twinlens.v1.CatalogService/UpsertItems': 'write',
  '/twinlens.v1.CatalogService/DeleteItem': 'write',
  '/twinlens.v1.CatalogService/ListExamples': 'read',
  '/twinlens.v1.CatalogService/AddExamples': 'write',
  '/twinlens.v1.CatalogService/DeleteExample': 'write',
  '/twinlens.v1.CatalogService/ConfirmMatch': 'write',
  '/twinlens.v1.CatalogService/StartAdaptation': 'write',
});

/**
 * Services whose every method only reads: health and reflection. They need a read token when
 * authExemptServices does not exempt them.
 */
export const READ_ONLY_SERVICES: readonly string[] = Object.freeze([
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
]);

/** `grpc.health.v1.Health` from `/grpc.health.v1.Health/Check`. */
export function serviceNameFromPath(path: string): string {
  const start = path.startsWith('/') ? 1 : 0;
  const slash = path.indexOf('/', start);
  return slash < 0 ? path.slice(start) : path.slice(start, slash);
}

/**
 * The permission a call to `path` (`/package.Service/Method`) needs: none for a method of an
 * exempt service, otherwise its entry in METHOD_PERMISSIONS, read for READ_ONLY_SERVICES, and
 * write for anything unlisted.
 */
export function permissionFor(path: string, exemptServices: ReadonlySet<string>): Permission {
  const service = serviceNameFromPath(path);
  if (exemptServices.has(service)) return 'none';
  if (Object.hasOwn(METHOD_PERMISSIONS, path)) return METHOD_PERMISSIONS[path];
  return READ_ONLY_SERVICES.includes(service) ? 'read' : 'write';
}
