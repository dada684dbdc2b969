import { spawn } from 'node:child_process';
import { AdaptError } from './adapt-error.js';
import { TRAINING_PACKAGES } from './defaults.js';

/**
 * Checks that `python` runs and imports torch, torchvision and onnx; returns their versions.
 * Throws {@link AdaptError} with the install command otherwise.
 */
export async function checkTrainingPython(python: string): Promise<{ torch: string; torchvision: string; onnx: string }> {
  const code = 'import json, torch, torchvision, onnx; print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__}))';
  const hint = `Training needs Debian's PyTorch: apt-get install -y --no-install-recommends ${TRAINING_PACKAGES} (then run with ${python}; a pyenv python3 on PATH does not see them).`;
  const { status, stdout, stderr, error } = await new Promise<{ status: number | null; stdout: string; stderr: string; error?: Error }>((resolve) => {
    let out = '';
    let err = '';
    const child = spawn(python, ['-c', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve({ status: null, stdout: out, stderr: err, error: e }));
    child.on('close', (s) => resolve({ status: s, stdout: out, stderr: err }));
  });
  if (error) throw new AdaptError(`cannot run ${python}: ${error.message}`, { hint, cause: error });
  if (status !== 0) {
    const missing = /No module named '([^']+)'/.exec(stderr)?.[1];
    throw new AdaptError(missing ? `${python} has no module '${missing}'` : `${python} failed: ${stderr.trim().split('\n').pop()}`, { hint });
  }
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}
