import * as path from 'node:path';
import { adaptModel, type AdaptProgress, formatDuration } from '../../adapt/index.js';

/** Flags of `twinlens adapt`. */
export interface AdaptCommandOptions {
  catalog: string;
  model?: string;
  out?: string;
  modelVersion?: string;
  budgetMinutes: number;
  views?: number;
  seed: number;
  smoke?: boolean;
  keepViews?: string;
  workers?: number;
  genericItems?: number;
}

function progressLine(p: AdaptProgress): string {
  const pct = p.total > 0 ? ` ${p.done}/${p.total}` : '';
  const eta = p.etaS === null ? '' : `, ~${formatDuration(p.etaS)} left`;
  const d = p.detail;
  const extra = [
    typeof d.loss === 'number' ? `loss ${d.loss}` : '',
    typeof d.recall_at_1 === 'number' ? `held-out R@1 ${d.recall_at_1}` : '',
    typeof d.note === 'string' ? d.note : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `[${formatDuration(p.elapsedS)}${eta}] ${p.stage}${pct}${extra ? ` (${extra})` : ''}`;
}

/** `twinlens adapt --catalog catalog.csv`: a model adapted to the catalog, with progress and time left. */
export async function adaptCommand(o: AdaptCommandOptions): Promise<void> {
  const out = path.resolve(o.out ?? path.join('models', `adapted-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '')}`));
  let lastPrint = 0;
  let lastStage = '';
  const r = await adaptModel({
    catalog: o.catalog,
    baseManifest: o.model,
    outDir: out,
    version: o.modelVersion,
    budgetMinutes: o.budgetMinutes,
    viewsPerItem: o.views,
    seed: o.seed,
    smoke: o.smoke,
    viewsDir: o.keepViews,
    workers: o.workers,
    genericItems: o.genericItems,
    onProgress: (p) => {
      // One line per stage change and at most one every 2 s within a stage.
      if (p.stage === lastStage && Date.now() - lastPrint < 2000 && p.done < p.total) return;
      lastStage = p.stage;
      lastPrint = Date.now();
      process.stderr.write(`${progressLine(p)}\n`);
    },
  });
  const rel = path.relative(process.cwd(), r.manifestPath);
  const m = rel && !rel.startsWith('..') ? rel : r.manifestPath;
  console.log(
    [
      `adapted model: ${m} (version ${r.version})`,
      `  ${r.items} items x (${r.viewsPerItem} simulated + 1 clean) = ${r.views} views; simulation ${formatDuration(r.seconds.simulate)}, ` +
        `training + export ${formatDuration(r.seconds.train)}, total ${formatDuration(r.seconds.total)}`,
      `serve with it:  twinlens serve --model ${m} [--data DIR]     (or TWINLENS_MODEL=${m})`,
      '  On start-up with a new model version the service re-embeds every catalog item from its stored source image',
      '  (no item is lost); when the previous model still loads it keeps serving until the new vectors are ready.',
      `evaluate it:    twinlens eval --model ${m} --catalog CATALOG.csv --queries QUERIES.csv`,
    ].join('\n'),
  );
}
