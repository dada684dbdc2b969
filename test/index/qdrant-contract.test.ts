import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { pointIdOf, QdrantVectorIndex } from '../../src/index/index.js';
import { vectorIndexContract } from './contract.js';

// The Qdrant backend against a REAL server: TWINLENS_QDRANT_URL=http://localhost:6333 npx jest test/index/qdrant
// (e.g. `docker run -p 6333:6333 qdrant/qdrant:v1.15.1`). No Qdrant server can run on this
// project's machine, so here the suite is skipped and the backend is untested (README says so).
const url = process.env.TWINLENS_QDRANT_URL;

if (url) {
  for (const quantization of ['f32', 'i8', 'b1'] as const) {
    vectorIndexContract(
      `qdrant ${quantization}`,
      async (dim) => {
        const index = await QdrantVectorIndex.create(dim, { url, collection: `twinlens_contract_${randomBytes(4).toString('hex')}`, quantization });
        // Each index the suite makes is dropped when it closes it.
        return Object.assign(index, { close: () => index.drop() });
      },
      quantization === 'f32' ? 0.95 : 0.9,
    );
  }
} else {
  test.skip('Qdrant contract (set TWINLENS_QDRANT_URL to run it against a real server)', () => undefined);
}

describe('Qdrant backend without a server', () => {
  test('point ids are deterministic UUIDs, distinct per key', () => {
    const a = pointIdOf('watch-0007');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointIdOf('watch-0007')).toBe(a);
    expect(pointIdOf('watch-0008')).not.toBe(a);
  });

  test('an unreachable server fails create with an error, not a hang', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await expect(QdrantVectorIndex.create(8, { url: `http://127.0.0.1:${port}`, collection: 'x' })).rejects.toThrow();
  });
});
