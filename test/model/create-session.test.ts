/**
 * The execution-provider probe: a provider whose shared library is absent is skipped with one
 * reason, before ONNX Runtime is asked for it, so its native logger prints nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DIST_DIR, PACKAGE_ROOT } from '../../src/config/index.js';
import { createProviderSession, missingProviderLibrary } from '../../src/model/create-session.js';
import { assertServerBuilt } from '../tools/loadtest/build-check.js';

const MODEL = path.join(PACKAGE_ROOT, 'models', 'twinlens_generic_v1', 'embedder.onnx');
const [PREFIX, SUFFIX] = process.platform === 'win32' ? ['', '.dll'] : ['lib', '.so'];

describe('missingProviderLibrary', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-ort-bin-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('cpu needs nothing beside the core library', () => {
    expect(missingProviderLibrary('cpu', dir)).toBeUndefined();
  });

  test('cuda names the first absent library: the shared bridge, then the provider', () => {
    expect(missingProviderLibrary('cuda', dir)).toBe(`${PREFIX}onnxruntime_providers_shared${SUFFIX}`);
    fs.writeFileSync(path.join(dir, `${PREFIX}onnxruntime_providers_shared${SUFFIX}`), '');
    expect(missingProviderLibrary('cuda', dir)).toBe(`${PREFIX}onnxruntime_providers_cuda${SUFFIX}`);
    fs.writeFileSync(path.join(dir, `${PREFIX}onnxruntime_providers_cuda${SUFFIX}`), '');
    expect(missingProviderLibrary('cuda', dir)).toBeUndefined();
  });
});

describe('createProviderSession', () => {
  test('falls back to cpu with one logged reason when the cuda libraries are absent', async () => {
    const lines: string[] = [];
    const emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-ort-bin-'));
    try {
      const r = await createProviderSession(MODEL, { providers: ['cuda', 'cpu'], intraOpThreads: 1, log: (m) => lines.push(m), ortBinDir: emptyBin });
      expect(r.provider).toBe('cpu');
      expect(r.fallbackReason).toBe(`cuda unavailable: ${PREFIX}onnxruntime_providers_shared${SUFFIX} is not installed (onnxruntime-node's install step downloads it on GPU hosts)`);
      expect(lines).toEqual([`execution provider ${r.fallbackReason}`]);
      await r.session.release();
    } finally {
      fs.rmSync(emptyBin, { recursive: true, force: true });
    }
  });

  test('nothing from ONNX Runtime on stderr when the probe skips cuda (child process, built code)', () => {
    assertServerBuilt();
    const emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-ort-bin-'));
    try {
      const script = `require(${JSON.stringify(path.join(DIST_DIR, 'src', 'model', 'create-session.js'))})
        .createProviderSession(${JSON.stringify(MODEL)}, { providers: ['cuda', 'cpu'], intraOpThreads: 1, ortBinDir: ${JSON.stringify(emptyBin)} })
        .then((r) => console.log(r.provider));`;
      const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(out.status).toBe(0);
      expect(out.stdout.trim()).toBe('cpu');
      expect(out.stderr).toBe('');
    } finally {
      fs.rmSync(emptyBin, { recursive: true, force: true });
    }
  });

  test('idle threads spinning or sleeping (spinWait): both sessions load and compute the same embedding', async () => {
    const pixels = Float32Array.from({ length: 2 * 3 * 224 * 224 }, (_, i) => ((i * 7919) % 256) / 255);
    const embeddings: Float32Array[] = [];
    for (const spinWait of [false, true]) {
      const { session, provider } = await createProviderSession(MODEL, { providers: ['cpu'], intraOpThreads: 2, spinWait });
      try {
        expect(provider).toBe('cpu');
        const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', pixels, [2, 3, 224, 224]) });
        embeddings.push(out['embedding']!.data as Float32Array);
      } finally {
        await session.release();
      }
    }
    expect(embeddings[0]!.length).toBe(2 * 256);
    expect(Array.from(embeddings[1]!)).toEqual(Array.from(embeddings[0]!));
  });
});
