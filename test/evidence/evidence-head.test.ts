/**
 * The evidence head's manifest checks and its ONNX scoring, on the bundled head: the columns follow
 * the manifest's `features`, the output is a probability that rises with each kind of evidence, and a
 * manifest the service cannot trust is refused with a message that says which field is wrong.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_OPTIONS } from '../../src/config/index.js';
import { EvidenceHeadFileError, OnnxEvidenceHead, type PairEvidence, readEvidenceHeadManifest } from '../../src/evidence/evidence-head.js';
import { makeTempDir } from '../helpers/server.js';

const BUNDLED = DEFAULT_OPTIONS.evidenceHead;
const bundled = JSON.parse(fs.readFileSync(BUNDLED, 'utf8'));

describe('the bundled head', () => {
  let head: OnnxEvidenceHead;
  beforeAll(async () => {
    head = await OnnxEvidenceHead.create(BUNDLED, { providers: ['cpu'] });
  });
  afterAll(() => head.close());

  const base: PairEvidence = { cosine: 0.6, color: 0.5, text: 0, queryHasText: true };

  test('gives a probability that rises with the cosine, the colours and the print, one per pair', async () => {
    const pairs = [base, { ...base, cosine: 0.7 }, { ...base, color: 0.9 }, { ...base, text: 1 }];
    const p = await head.score(pairs);
    expect(p).toHaveLength(4);
    for (const v of p) expect(v > 0 && v < 1).toBe(true);
    expect(p[1]).toBeGreaterThan(p[0]);
    expect(p[2]).toBeGreaterThan(p[0]);
    expect(p[3]).toBeGreaterThan(p[0]);
    expect(await head.score([])).toHaveLength(0);
  });

  test('scores a pair the same alone as in a batch', async () => {
    const batch = await head.score([base, { ...base, text: 0.5 }]);
    expect((await head.score([{ ...base, text: 0.5 }]))[0]).toBeCloseTo(batch[1], 6);
  });

  test('reads what its manifest says', () => {
    expect(head.features).toEqual(['cosine', 'color', 'text', 'query_has_text']);
    expect(head.version).toBe(bundled.version);
    expect(head.threshold).toBe(bundled.threshold);
  });
});

describe('manifest checks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, m: unknown): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof m === 'string' ? m : JSON.stringify(m));
    return file;
  };

  test.each([
    ['not JSON', '{', /cannot be read as JSON/],
    ['an unknown feature', { ...bundled, features: ['cosine', 'smell'] }, /features smell are not known/],
    ['no features', { ...bundled, features: [] }, /features must list the input columns/],
    ['a threshold outside (0, 1)', { ...bundled, threshold: 1.5 }, /threshold is a probability/],
    ['no sha256', { ...bundled, sha256: 'abc' }, /sha256 must be 64 hex digits/],
    ['no embedderVersion', { ...bundled, embedderVersion: '' }, /embedderVersion must be a non-empty string/],
  ])('refuses %s', async (_what, manifest, message) => {
    const file = write('m.json', manifest);
    await expect(readEvidenceHeadManifest(file)).rejects.toThrow(EvidenceHeadFileError);
    await expect(readEvidenceHeadManifest(file)).rejects.toThrow(message);
  });

  test('refuses an ONNX file whose input is not the one the manifest names', async () => {
    fs.copyFileSync(path.join(path.dirname(BUNDLED), bundled.file), path.join(dir, bundled.file));
    const file = write('renamed.json', { ...bundled, input: 'features' });
    await expect(OnnxEvidenceHead.create(file, { providers: ['cpu'] })).rejects.toThrow(/has inputs evidence .* the manifest names 'features'/);
  });
});
