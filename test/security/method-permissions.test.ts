/** Which methods need which token: every method the server registers is classified on purpose. */
import { CatalogServiceService, TwinlensServiceService } from '../../src/gen/twinlens/v1/twinlens.js';
import { DEFAULT_AUTH_EXEMPT_SERVICES, METHOD_PERMISSIONS, permissionFor, serviceNameFromPath } from '../../src/security/index.js';

const exempt = new Set(DEFAULT_AUTH_EXEMPT_SERVICES);
const nothingExempt = new Set<string>();

test('every twinlens method is listed in METHOD_PERMISSIONS (a new method must be classified)', () => {
  const paths = [...Object.values(TwinlensServiceService), ...Object.values(CatalogServiceService)].map((m) => m.path).sort();
  expect(Object.keys(METHOD_PERMISSIONS).sort()).toEqual(paths);
});

test.each([
  ['/twinlens.v1.TwinlensService/Search', 'read'],
  ['/twinlens.v1.TwinlensService/Compare', 'read'],
  ['/twinlens.v1.TwinlensService/CompareStream', 'read'],
  ['/twinlens.v1.TwinlensService/Embed', 'read'],
  ['/twinlens.v1.TwinlensService/GetServiceInfo', 'read'],
  ['/twinlens.v1.CatalogService/GetItem', 'read'],
  ['/twinlens.v1.CatalogService/ListItems', 'read'],
  ['/twinlens.v1.CatalogService/GetCatalogStats', 'read'],
  ['/twinlens.v1.CatalogService/UpsertItems', 'write'],
  ['/twinlens.v1.CatalogService/DeleteItem', 'write'],
  ['/grpc.health.v1.Health/Check', 'none'],
  ['/grpc.health.v1.Health/Watch', 'none'],
  ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', 'none'],
  ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', 'none'],
  ['/twinlens.v1.CatalogService/DropEverything', 'write'],
  ['/some.other.Service/Method', 'write'],
])('%s needs %s', (path, permission) => {
  expect(permissionFor(path, exempt)).toBe(permission);
});

test('without exemptions, health and reflection need a read token and twinlens methods keep theirs', () => {
  expect(permissionFor('/grpc.health.v1.Health/Check', nothingExempt)).toBe('read');
  expect(permissionFor('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', nothingExempt)).toBe('read');
  expect(permissionFor('/twinlens.v1.TwinlensService/Search', nothingExempt)).toBe('read');
  expect(permissionFor('/twinlens.v1.CatalogService/UpsertItems', nothingExempt)).toBe('write');
});

test('exemption is by service: exempting TwinlensService opens its methods only', () => {
  const open = new Set(['twinlens.v1.TwinlensService']);
  expect(permissionFor('/twinlens.v1.TwinlensService/Search', open)).toBe('none');
  expect(permissionFor('/twinlens.v1.CatalogService/GetItem', open)).toBe('read');
});

test('a method named like an own property of Object is not mistaken for a listed one', () => {
  expect(permissionFor('constructor', nothingExempt)).toBe('write');
  expect(permissionFor('/twinlens.v1.CatalogService/toString', nothingExempt)).toBe('write');
});

test('serviceNameFromPath', () => {
  expect(serviceNameFromPath('/grpc.health.v1.Health/Check')).toBe('grpc.health.v1.Health');
  expect(serviceNameFromPath('grpc.health.v1.Health/Check')).toBe('grpc.health.v1.Health');
  expect(serviceNameFromPath('/NoMethod')).toBe('NoMethod');
});
