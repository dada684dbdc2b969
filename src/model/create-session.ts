import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../config/index.js';

/** An ONNX Runtime session and the provider it actually got. */
export interface ProviderSession {
  session: ort.InferenceSession;
  provider: ExecutionProviderName;
  /** Why earlier providers in the preference list were skipped; empty when the first one loaded. */
  fallbackReason: string;
}

export interface CreateSessionOptions {
  /** Providers in order of preference. */
  providers: ExecutionProviderName[];
  /** Intra-op threads; 0 lets ONNX Runtime pick (one per core). */
  intraOpThreads: number;
  /**
   * Whether idle intra-op threads spin waiting for the next piece of work (ONNX Runtime's default)
   * instead of sleeping. Default false: see the `ortSpinWait` option for what each costs.
   */
  spinWait?: boolean;
  /** Called with a line for each provider that failed to load. */
  log?: (message: string) => void;
  /** Folder of onnxruntime-node's native binding and provider libraries. Default: the installed package's. */
  ortBinDir?: string;
}

/**
 * Opens the model on the first provider that loads. onnxruntime-node throws when asked for a
 * provider whose shared library is missing (it does not fall back by itself), so each provider
 * is tried alone, in order, and the reason for every skip is kept.
 */
export async function createProviderSession(modelPath: string, options: CreateSessionOptions): Promise<ProviderSession> {
  const reasons: string[] = [];
  for (const provider of options.providers) {
    try {
      const missing = missingProviderLibrary(provider, options.ortBinDir ?? defaultOrtBinDir());
      if (missing) throw new Error(`${missing} is not installed (onnxruntime-node's install step downloads it on GPU hosts)`);
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: options.spinWait ? '1' : '0' } } },
        ...(options.intraOpThreads > 0 ? { intraOpNumThreads: options.intraOpThreads } : {}),
      });
      return { session, provider, fallbackReason: reasons.join('; ') };
    } catch (e) {
      const reason = `${provider} unavailable: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
      reasons.push(reason);
      options.log?.(`execution provider ${reason}`);
    }
  }
  throw new Error(`no execution provider could load ${modelPath}: ${reasons.join('; ')}`);
}

/** Where onnxruntime-node keeps its native binding for this platform (`bin/napi-v6/<platform>/<arch>`). */
function defaultOrtBinDir(): string {
  const packageDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * The first shared library `provider` needs that is absent from `binDir`, or undefined. Asking
 * ONNX Runtime for a provider whose library is absent makes its native logger print an error (in
 * red) before the call throws; that logger's level is fixed for the whole process by the first
 * session, so it cannot be lowered for the probe alone. Checking the files first keeps a CPU-only
 * host's start-up down to the one fallback line.
 */
export function missingProviderLibrary(provider: ExecutionProviderName, binDir: string): string | undefined {
  if (provider === 'cpu') return undefined; // built into the core library
  const [prefix, suffix] = process.platform === 'win32' ? ['', '.dll'] : ['lib', '.so'];
  const needed = [`${prefix}onnxruntime_providers_shared${suffix}`, `${prefix}onnxruntime_providers_${provider}${suffix}`];
  return needed.find((file) => !fs.existsSync(path.join(binDir, file)));
}
