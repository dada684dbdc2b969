import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { AdaptError, adaptModel, checkTrainingPython, EtaEstimator, formatDuration, parseTrainerLine } from '../../src/adapt/index.js';
import { makeTempDir } from '../helpers/server.js';

let dir: string;
const NO_ASSETS = { backgroundDirs: [], clipartDir: null };
beforeAll(async () => {
  dir = await makeTempDir('twinlens-adapt-');
  await fs.mkdir(path.join(dir, 'catalog'));
  for (const [name, colour] of [['red', '#d22'], ['blue', '#22d']] as const) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160"><rect width="160" height="160" fill="#fff"/><circle cx="80" cy="80" r="50" fill="${colour}"/></svg>`;
    await sharp(Buffer.from(svg)).jpeg().toFile(path.join(dir, 'catalog', `${name}.jpg`));
  }
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** An executable shell script standing in for python. */
async function fakePython(name: string, body: string): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

describe('trainer progress', () => {
  it('parses JSON progress lines and ignores everything else', () => {
    expect(parseTrainerLine('{"stage": "train", "done": 3, "total": 10, "loss": 1.5}')).toEqual({ stage: 'train', done: 3, total: 10, loss: 1.5 });
    expect(parseTrainerLine('Warning: something')).toBeNull();
    expect(parseTrainerLine('{"no_stage": 1}')).toBeNull();
    expect(parseTrainerLine('{broken')).toBeNull();
  });

  it('estimates the time left from the stage rate, capped by the budget', () => {
    let now = 0;
    const eta = new EtaEstimator(0, 600, 60, () => now);
    expect(eta.update('train', 0, 100, 60)).toBeNull(); // nothing done yet in this stage
    now = 10_000;
    expect(eta.update('train', 10, 100, 60)).toBeCloseTo(90 + 60, 6); // 1 step/s, 90 left + 60 s later
    now = 20_000;
    const slow = new EtaEstimator(0, 30, 0, () => now);
    slow.update('train', 0, 1000, 0);
    now = 25_000;
    expect(slow.update('train', 1, 1000, 0)).toBeCloseTo(5, 6); // budget of 30 s left 5 s
    expect(formatDuration(3725)).toBe('1 h 02 min');
    expect(formatDuration(245)).toBe('4 min 05 s');
  });
});

describe('missing python or torch', () => {
  it('names the install command when python cannot run', async () => {
    const e = await checkTrainingPython(path.join(dir, 'no-such-python')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdaptError);
    expect((e as Error).message).toMatch(/cannot run .*no-such-python/);
    expect((e as Error).message).toContain('apt-get install -y --no-install-recommends python3-torch python3-torchvision python3-onnx');
  });

  it('names the missing module and the install command', async () => {
    const py = await fakePython('py-without-torch', `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`);
    const e = await adaptModel({ catalog: path.join(dir, 'catalog'), outDir: path.join(dir, 'out'), python: py }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdaptError);
    expect((e as Error).message).toMatch(/has no module 'torch'/);
    expect((e as Error).message).toContain('apt-get install -y --no-install-recommends python3-torch python3-torchvision python3-onnx');
  });
});

describe('trainer failures', () => {
  // A python that passes the torch check and runs the "trainer" given as its first argument with sh.
  let py: string;
  beforeAll(async () => {
    py = await fakePython('py-ok', `if [ "$1" = "-c" ]; then echo '{"torch": "fake", "torchvision": "fake", "onnx": "fake"}'; exit 0; fi\nexec sh "$@"`);
  });

  it('reports the end of stderr when train.py fails', async () => {
    const script = path.join(dir, 'train-fails.sh');
    await fs.writeFile(script, `echo '{"stage": "load", "done": 1, "total": 1}'\necho "Traceback: boom at step 3" >&2\nexit 3\n`);
    const stages: string[] = [];
    const e = await adaptModel({
      catalog: path.join(dir, 'catalog'),
      outDir: path.join(dir, 'out1'),
      python: py,
      trainScript: script,
      viewsPerItem: 1,
      workers: 0,
      assets: NO_ASSETS,
      onProgress: (p) => stages.push(p.stage),
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdaptError);
    expect((e as Error).message).toMatch(/training failed \(exit code 3\)/);
    expect((e as Error).message).toContain('Traceback: boom at step 3');
    expect(stages).toEqual(expect.arrayContaining(['check', 'simulate', 'load']));
  });

  it('refuses a trainer run that wrote no loadable model', async () => {
    const script = path.join(dir, 'train-nothing.sh');
    await fs.writeFile(script, `echo '{"stage": "done", "done": 1, "total": 1}'\n`);
    const e = await adaptModel({ catalog: path.join(dir, 'catalog'), outDir: path.join(dir, 'out2'), python: py, trainScript: script, viewsPerItem: 1, workers: 0, assets: NO_ASSETS }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(AdaptError);
    expect((e as Error).message).toMatch(/not a loadable model/);
  });

  it('refuses a catalog of fewer than two items', async () => {
    await fs.mkdir(path.join(dir, 'one'));
    await fs.copyFile(path.join(dir, 'catalog', 'red.jpg'), path.join(dir, 'one', 'red.jpg'));
    const e = await adaptModel({ catalog: path.join(dir, 'one'), outDir: path.join(dir, 'out3'), python: py }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/1 item\(s\); adaptation needs at least 2/);
  });
});
