// Jest runs each test file in its own vm realm, but onnxruntime-node's native binding creates
// output arrays in Node's main realm, so onnxruntime-common's `data instanceof Float32Array`
// check (made with the test realm's constructor) throws "A float32 tensor's data must be type of
// function Float32Array()". In the test realm only, typed-array instanceof accepts any realm's.
const { TestEnvironment } = require('jest-environment-node');

const TYPED = ['Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

class OrtFriendlyEnvironment extends TestEnvironment {
  async setup() {
    await super.setup();
    for (const name of TYPED) {
      const ctor = this.global[name];
      // The same constructor may come back in a later test file of this worker: patch it once.
      if (Object.prototype.hasOwnProperty.call(ctor, Symbol.hasInstance)) continue;
      const tag = `[object ${name}]`;
      Object.defineProperty(ctor, Symbol.hasInstance, {
        value: (v) => ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === tag,
      });
    }
  }
}

module.exports = OrtFriendlyEnvironment;
