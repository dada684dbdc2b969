import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { CatalogServiceService, TwinlensServiceService } from '../gen/twinlens/v1/twinlens.js';

/** A `map<string, string>` field of a request message: its property name and field number. */
interface MapField {
  property: string;
  fieldNumber: number;
}

/**
 * The `map<string, string>` fields of request messages, by method path (proto/twinlens/v1):
 * SearchRequest.filter = 4, UpsertItemsRequest.metadata = 3.
 */
export const REQUEST_MAP_FIELDS: Readonly<Record<string, readonly MapField[]>> = Object.freeze({
  [TwinlensServiceService.search.path]: [{ property: 'filter', fieldNumber: 4 }],
  [CatalogServiceService.upsertItems.path]: [{ property: 'metadata', fieldNumber: 3 }],
});

/**
 * The entries of map field `fieldNumber` of an encoded message, as an object without a
 * prototype, so every key (`__proto__` included) is an own, ordinary key. A repeated key keeps
 * its last value, as protobuf decoders do.
 */
export function stringMapFrom(bytes: Uint8Array, fieldNumber: number): Record<string, string> {
  const map = Object.create(null) as Record<string, string>;
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== fieldNumber || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, field);
      continue;
    }
    const entry = new BinaryReader(reader.bytes());
    let key = '';
    let value = '';
    while (entry.pos < entry.len) {
      const [entryField, entryWire] = entry.tag();
      if (entryField === 1 && entryWire === WireType.LengthDelimited) key = entry.string();
      else if (entryField === 2 && entryWire === WireType.LengthDelimited) value = entry.string();
      else entry.skip(entryWire, entryField);
    }
    map[key] = value;
  }
  return map;
}

/**
 * `service` with the request deserializers of the methods in REQUEST_MAP_FIELDS wrapped: after
 * the generated decoder, whose maps are plain objects (it assigns `map[key] = value`, so a
 * `__proto__` entry is silently lost), their map fields are read again into objects without a
 * prototype. The handlers then see every key the client sent and can refuse the reserved ones
 * (store RESERVED_MAP_KEYS) with INVALID_ARGUMENT.
 */
export function withPrototypeFreeMaps<S extends ServiceDefinition>(service: S): S {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    const fields = REQUEST_MAP_FIELDS[method.path];
    if (!fields) {
      wrapped[name] = method;
      continue;
    }
    const decode = method.requestDeserialize;
    wrapped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const message = decode(bytes) as Record<string, unknown>;
        for (const { property, fieldNumber } of fields) message[property] = stringMapFrom(bytes, fieldNumber);
        return message;
      },
    };
  }
  return wrapped as S;
}
