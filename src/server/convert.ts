import type { CatalogItemInfo } from '../store/index.js';
import type { AdaptationState as EngineAdaptationState, AdaptationStatus, ImageSource, RankedBy, Timings } from '../engine/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { type AdaptationProgress, AdaptationState, type CatalogItem, type ImageRef, RankingStage, type StageTimings } from '../gen/twinlens/v1/twinlens.js';

/** Wire form of a RankedBy. */
export function rankingStageFrom(rankedBy: RankedBy): RankingStage {
  if (rankedBy === 'text') return RankingStage.RANKING_STAGE_TEXT;
  if (rankedBy === 'color') return RankingStage.RANKING_STAGE_COLOR;
  return rankedBy === 'pair_head' ? RankingStage.RANKING_STAGE_PAIR_HEAD : RankingStage.RANKING_STAGE_EMBEDDING;
}

export function stageTimingsFrom(t: Timings): StageTimings {
  return { decodeMs: t.decodeMs, embedMs: t.embedMs, cutoutMs: t.cutoutMs, shortlistMs: t.shortlistMs, rerankMs: t.rerankMs, textMs: t.textMs, colorMs: t.colorMs, totalMs: t.totalMs };
}

/** An ImageRef from the wire as the engine's ImageSource; `field` names it in errors. */
export function imageSourceFrom(ref: ImageRef | undefined, field: string): ImageSource {
  const source = ref?.source;
  if (!source) throw new InvalidArgumentError(field, 'missing: set either image or item_id');
  if (source.$case === 'image') return { image: source.value };
  return { itemId: source.value };
}

export function catalogItemFrom(info: CatalogItemInfo): CatalogItem {
  return {
    itemId: info.itemId,
    metadata: info.metadata,
    modelVersion: info.modelVersion,
    imageSha256: info.imageSha256,
    imageBytes: info.imageBytes,
    updatedAtMs: info.updatedAtMs,
  };
}

const ADAPTATION_STATES: Readonly<Record<EngineAdaptationState, AdaptationState>> = Object.freeze({
  running: AdaptationState.ADAPTATION_STATE_RUNNING,
  adapted: AdaptationState.ADAPTATION_STATE_ADAPTED,
  kept: AdaptationState.ADAPTATION_STATE_KEPT,
  failed: AdaptationState.ADAPTATION_STATE_FAILED,
});

/** Wire form of an adaptation's status. */
export function adaptationProgressFrom(s: AdaptationStatus): AdaptationProgress {
  return { ...s, state: ADAPTATION_STATES[s.state] };
}
