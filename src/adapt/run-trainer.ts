import { spawn } from 'node:child_process';
import { AdaptError } from './adapt-error.js';
import { parseTrainerLine, type TrainerEvent } from './progress.js';

/** Options of {@link runTrainer}. */
export interface RunTrainerOptions {
  python: string;
  script: string;
  args: string[];
  onEvent: (e: TrainerEvent) => void;
  /** Stderr lines kept for the error message. */
  stderrTailLines: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `python script ...args`, hands every JSON progress line of its stdout to `onEvent`, and
 * resolves with the last event. A non-zero exit throws {@link AdaptError} with the end of stderr.
 */
export function runTrainer(o: RunTrainerOptions): Promise<TrainerEvent | null> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new AdaptError('adaptation cancelled'));
    const child = spawn(o.python, [o.script, ...o.args], { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
    let last: TrainerEvent | null = null;
    let outBuf = '';
    let errBuf = '';
    const tail: string[] = [];
    const onAbort = () => child.kill('SIGTERM');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      outBuf += d;
      let nl;
      while ((nl = outBuf.indexOf('\n')) >= 0) {
        const line = outBuf.slice(0, nl);
        outBuf = outBuf.slice(nl + 1);
        const e = parseTrainerLine(line);
        if (e) {
          last = e;
          o.onEvent(e);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      errBuf += d;
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      tail.push(...lines.filter((l) => l.trim()));
      if (tail.length > o.stderrTailLines) tail.splice(0, tail.length - o.stderrTailLines);
    });
    child.on('error', (e) => reject(new AdaptError(`cannot start ${o.python} ${o.script}: ${e.message}`, { cause: e })));
    child.on('close', (code, sig) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (errBuf.trim()) tail.push(errBuf);
      if (o.signal?.aborted) return reject(new AdaptError('adaptation cancelled'));
      if (code === 0) return resolve(last);
      reject(new AdaptError(`training failed (${sig ? `signal ${sig}` : `exit code ${code}`}):\n${tail.join('\n')}`));
    });
  });
}
