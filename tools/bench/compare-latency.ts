import { unaryCall } from '../../src/cli/client.js';
import { type CompareRequest, type CompareResponse, RankingStage, rankingStageToJSON, type TwinlensServiceClient } from '../../src/gen/twinlens/v1/twinlens.js';
import { summarize } from '../../src/eval/percentiles.js';
import type { BenchImage } from './bench-images.js';
import { runClosedLoop } from './closed-loop.js';

/** Compare latency at one client: a query photo against a catalog item, as a verification job sends them. */
export interface CompareLevelResult {
  calls: number;
  p50Ms: number;
  p95Ms: number;
  /** The stage that scored (RankingStage name): the evidence head, the pair head or the embedding cosine. */
  scoredBy: string;
  /** p50 of the stage timings the server returns, in ms. */
  server: { embedMs: number; colorMs: number; textMs: number; rerankMs: number; totalMs: number };
}

/** Closed-loop Compare(photo, item) calls, one client, photos and items round-robin. */
export async function benchCompare(
  client: TwinlensServiceClient,
  o: { photos: readonly BenchImage[]; itemIds: readonly string[]; total: number; warmup: number },
): Promise<CompareLevelResult> {
  if (o.photos.length === 0 || o.itemIds.length === 0) throw new Error('compare bench: no photos or no catalog items');
  const compare = client.compare.bind(client);
  const call = (i: number): Promise<CompareResponse> =>
    unaryCall<CompareRequest, CompareResponse>(compare, {
      a: { source: { $case: 'image', value: o.photos[i % o.photos.length].bytes } },
      b: { source: { $case: 'itemId', value: o.itemIds[i % o.itemIds.length] } },
    });
  const { latenciesMs, results } = await runClosedLoop(call, { concurrency: 1, total: o.total, warmup: o.warmup });
  const s = summarize(latenciesMs);
  const stage = (pick: (r: CompareResponse) => number | undefined): number => summarize(results.map((r) => pick(r) ?? 0)).p50;
  const scoredBy = [...new Set(results.map((r) => rankingStageToJSON(r.scoredBy ?? RankingStage.RANKING_STAGE_UNSPECIFIED)))].join(', ');
  return {
    calls: latenciesMs.length,
    p50Ms: s.p50,
    p95Ms: s.p95,
    scoredBy,
    server: {
      embedMs: stage((r) => r.timings?.embedMs),
      colorMs: stage((r) => r.timings?.colorMs),
      textMs: stage((r) => r.timings?.textMs),
      rerankMs: stage((r) => r.timings?.rerankMs),
      totalMs: stage((r) => r.timings?.totalMs),
    },
  };
}
