import { performance } from 'node:perf_hooks';
import { toFloat16, fromFloat16 } from '../../src/store/catalog/float16.js';
import { loadManifest, localFeatureLength, OnnxPairHead } from '../../src/model/index.js';
import { summarize } from '../../src/eval/percentiles.js';

export interface RerankLatencyOptions {
  /** The model's manifest; it must have a pair head. */
  manifest: string;
  /** Shortlist sizes to time. Default [10, 50, 100]. */
  shortlists?: number[];
  /** Timed reranks per size (after 5 warm-up runs). Default 50. */
  runs?: number;
  /** ONNX Runtime intra-op threads; 0: one per core. Default 0. */
  intraOpThreads?: number;
}

/** Rerank time of one query for one shortlist size, in ms. */
export interface RerankLatency {
  shortlist: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  /** Of the mean: unpacking the candidates' stored float16 maps. */
  unpackMeanMs: number;
}

/**
 * Times what Search's rerank stage does per query: unpack the shortlist's stored float16 local maps,
 * then one pair-head run over (query, candidate) pairs. Random maps (the head's cost does not
 * depend on their values); CPU provider.
 */
export async function measureRerankLatency(o: RerankLatencyOptions): Promise<{ model: string; localShape: string; results: RerankLatency[] }> {
  const manifest = await loadManifest(o.manifest);
  const head = await OnnxPairHead.create(manifest, { providers: ['cpu'], intraOpThreads: o.intraOpThreads ?? 0 });
  if (!head) throw new Error(`${manifest.manifestPath} has no pair head to time`);
  const n = localFeatureLength(manifest);
  const rand = (): Float32Array => Float32Array.from({ length: n }, () => Math.max(0, Math.random() * 2 - 0.5));
  const results: RerankLatency[] = [];
  try {
    for (const size of o.shortlists ?? [10, 50, 100]) {
      const query = rand();
      const stored = Array.from({ length: size }, () => toFloat16(rand()));
      const times: number[] = [];
      const unpack: number[] = [];
      const runs = o.runs ?? 50;
      for (let r = 0; r < runs + 5; r++) {
        const t0 = performance.now();
        const candidates = stored.map((h) => fromFloat16(h));
        const t1 = performance.now();
        await head.scoreCandidates(query, candidates, new Float32Array(size).fill(0.5));
        const t2 = performance.now();
        if (r >= 5) {
          times.push(t2 - t0);
          unpack.push(t1 - t0);
        }
      }
      const t = summarize(times);
      results.push({
        shortlist: size,
        p50Ms: t.p50,
        p95Ms: t.p95,
        meanMs: t.mean,
        unpackMeanMs: unpack.reduce((s, v) => s + v, 0) / unpack.length,
      });
    }
  } finally {
    await head.close();
  }
  const s = manifest.localFeatures!;
  return { model: manifest.version, localShape: `${s.channels}x${s.height}x${s.width}`, results };
}
