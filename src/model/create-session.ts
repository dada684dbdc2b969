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
  /** Called with a line for each provider that failed to load. */
  log?: (message: string) => void;
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
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
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
