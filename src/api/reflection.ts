import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Server } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { PACKAGE_ROOT } from '../config/index.js';

/** The compiled descriptor set of proto/ (`make proto` writes it with `buf build`). */
export const DESCRIPTOR_SET_PATH = path.join(PACKAGE_ROOT, 'proto', 'twinlens.binpb');

/**
 * Adds server reflection (v1 and v1alpha) for twinlens.v1 and grpc.health.v1. The twinlens schema
 * comes from the binary descriptor set, not from .proto text: loaded from text, map fields' entry
 * types are named `M` instead of `MEntry` and Go clients (grpcurl, buf curl) fail to resolve them.
 */
export function addReflection(server: Server): void {
  const twinlens = protoLoader.loadFileDescriptorSetFromBuffer(fs.readFileSync(DESCRIPTOR_SET_PATH));
  const health = protoLoader.loadSync(healthProtoPath);
  new ReflectionService({ ...twinlens, ...health }).addToServer(server);
}
