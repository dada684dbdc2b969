import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Server } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { PACKAGE_ROOT } from '../config/index.js';

/**
 * The compiled descriptor set of proto/: twinlens.v1 and the vendored grpc.health.v1
 * (`make proto` writes it with `buf build`).
 */
export const DESCRIPTOR_SET_PATH = path.join(PACKAGE_ROOT, 'proto', 'twinlens.binpb');

/**
 * The package definition for reflection, carrying the descriptor set's files exactly as
 * buf compiled them. Two traps make this necessary: loaded from .proto text, map entry types are
 * named `M` instead of `MEntry`; loaded from the descriptor set, proto-loader re-serialises the
 * files through protobufjs, which marks every message holding a map field as a map entry itself.
 * Go clients (grpcurl, buf curl) reject either schema ("failed to find service named ...").
 */
export function reflectionPackageDefinition(descriptorSet: Buffer): protoLoader.PackageDefinition {
  const definition = protoLoader.loadFileDescriptorSetFromBuffer(descriptorSet);
  const files = rawFileDescriptors(descriptorSet);
  for (const value of Object.values(definition)) {
    if ('fileDescriptorProtos' in value) value.fileDescriptorProtos = files;
  }
  return definition;
}

/** The encoded FileDescriptorProtos of a FileDescriptorSet (`repeated FileDescriptorProto file = 1`), untouched. */
function rawFileDescriptors(descriptorSet: Buffer): Buffer[] {
  const reader = new BinaryReader(descriptorSet);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType);
  }
  return files;
}

/** Adds server reflection (v1 and v1alpha) for twinlens.v1 and grpc.health.v1. */
export function addReflection(server: Server): void {
  new ReflectionService(reflectionPackageDefinition(fs.readFileSync(DESCRIPTOR_SET_PATH))).addToServer(server);
}
