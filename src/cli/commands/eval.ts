import * as os from 'node:os';
import * as path from 'node:path';
import type { TwinlensOptions } from '../../config/index.js';
import { type EvalReport, type FeedbackOptions, runEval, writeHtmlReport } from '../../eval/index.js';
import { adaptModel, formatDuration, PRETRAINED_BACKBONE_MANIFEST } from '../../adapt/index.js';
import { formatTable } from '../format-table.js';

type Metrics = { recall_at_1: number; recall_at_5: number; mrr: number };

/** Human-readable form of an eval report: shortlist-only and reranked figures side by side, then Compare's. */
export function formatReport(r: EvalReport): string {
  const m3 = (m: Metrics): string[] => [m.recall_at_1.toFixed(3), m.recall_at_5.toFixed(3), m.mrr.toFixed(3)];
  const lines: string[] = [];
  if (r.model) lines.push(`model: ${r.model.name} (${r.model.version})`);
  if (r.ranked_by !== 'embedding' && r.shortlist_only && r.shortlist_only_by_category) {
    lines.push(
      r.ranked_by === 'pair_head'
        ? `ranked by: pair_head over an embedding shortlist of ${r.shortlist_k}`
        : r.ranked_by === 'evidence_head'
          ? "ranked by: evidence_head (the learned weighing of the cosine, colour and text of the embedding order's top hits)"
          : `ranked by: ${r.ranked_by} (re-scoring the embedding order's top hits)`,
    );
    const shortlist = r.shortlist_only_by_category;
    const rows = [
      ['overall', String(r.n), ...m3(r.shortlist_only), ...m3(r.overall)],
      ...Object.entries(r.by_category).map(([c, m]) => [c, String(m.n), ...m3(shortlist[c]), ...m3(m)]),
    ];
    lines.push(formatTable(['category', 'n', 'short R@1', 'short R@5', 'short MRR', 'rerank R@1', 'rerank R@5', 'rerank MRR'], rows));
    if (r.rerank_ms) {
      const t = r.rerank_ms;
      lines.push(`rerank: ${t.mean.toFixed(1)} ms/query mean, p50 ${t.p50.toFixed(1)}, p95 ${t.p95.toFixed(1)}, max ${t.max.toFixed(1)}`);
    }
  } else {
    lines.push(`ranked by: ${r.ranked_by}`);
    const rows = [['overall', String(r.n), ...m3(r.overall)], ...Object.entries(r.by_category).map(([c, m]) => [c, String(m.n), ...m3(m)])];
    lines.push(formatTable(['category', 'n', 'R@1', 'R@5', 'MRR'], rows));
  }
  const lm = r.label_match;
  if (lm) {
    lines.push(`label match (a hit is right when its label is the query's; ${lm.labels} labels in the catalog):`);
    const rows = [['overall', String(lm.n), ...m3(lm)], ...Object.entries(lm.by_category).map(([c, m]) => [c, String(m.n), ...m3(m)])];
    lines.push(formatTable(['category', 'n', 'R@1', 'R@5', 'MRR'], rows));
  }
  const v = r.verification;
  if (v) {
    lines.push(
      `Compare (${v.scored_by}) on ${v.positives} same / ${v.negatives} different photo-vs-catalog pairs: ` +
        `ROC AUC ${v.roc_auc.toFixed(3)}, TAR ${v.tar_at_far_1.toFixed(3)} at 1% FAR, EER ${v.eer.toFixed(3)}; ` +
        `at threshold ${v.threshold.toFixed(4)}: TAR ${v.tar_at_threshold.toFixed(3)}, FAR ${v.far_at_threshold.toFixed(3)}`,
    );
    if (v.embedding_cosine) {
      const c = v.embedding_cosine;
      lines.push(`  (embedding cosine on the same pairs: ROC AUC ${c.roc_auc.toFixed(3)}, TAR ${c.tar_at_far_1.toFixed(3)} at 1% FAR, EER ${c.eer.toFixed(3)})`);
    }
  }
  if (r.feedback) {
    const f = r.feedback;
    lines.push(`confirmed photos: ${f.examples} (${f.per_item} per item, ${f.items_with_feedback} items), scored by ${f.scoring}; adapted: ${f.adapted} (${f.adapt_reason})`);
  }
  if (r.by_feedback) {
    const b = r.by_feedback;
    lines.push(formatTable(['items', 'n', 'R@1', 'R@5', 'MRR'], [['with photos', String(b.with.n), ...m3(b.with)], ['without', String(b.without.n), ...m3(b.without)]]));
  }
  if (r.learning_curve) {
    lines.push(
      formatTable(
        ['per item', 'scoring', 'examples', 'R@1', 'R@5', 'MRR'],
        r.learning_curve.map((p) => [String(p.per_item), p.scoring, String(p.examples), ...m3(p.overall)]),
      ),
    );
  }
  if (r.stage_seconds) {
    const t = r.stage_seconds;
    const parts = [`index ${t.index}`, `refine ${t.refine}`, ...(t.feedback === undefined ? [] : [`feedback ${t.feedback}`]), `queries ${t.queries}`, ...(t.verification === undefined ? [] : [`Compare pairs ${t.verification}`])];
    lines.push(`wall seconds: ${parts.join(', ')}`);
  }
  if (r.report_html) lines.push(`report: ${r.report_html}`);
  return lines.join('\n');
}

export interface EvalCommandOptions {
  catalog: string;
  queries: string;
  json?: boolean;
  service: Partial<TwinlensOptions>;
  /** Candidates the pair head reranks; default the service's defaultShortlistK. */
  shortlistK?: number;
  /** HTML report path; false: none. Default `reports/eval-<model version>.html`. */
  report?: string | false;
  /** Skip Compare's verification figures. */
  verification?: boolean;
  /** Each query's evidence as JSON lines (the evidence head's training data). */
  evidenceFile?: string;
  /** The csv column of labels for label_match (default `label`). */
  labelColumn?: string;
  /** Adapt a copy of the model on the benchmark's catalog images first, then evaluate with it. */
  adapt?: boolean;
  adaptOut?: string;
  adaptBudgetMinutes?: number;
  /** Confirmed photos fed before measuring (`--feedback FILE` and its companions). */
  feedback?: FeedbackOptions;
}

/** `twinlens eval --catalog FILE --queries FILE [--model M] [--adapt]`: retrieval and verification figures. */
export async function evalCommand(opts: EvalCommandOptions): Promise<void> {
  const service = { ...opts.service };
  if (opts.adapt) {
    // Without --model, adaptModel starts from the pretrained backbone: the default model is a
    // trained twin whose checkpoint is not shipped, so it cannot be fine-tuned further.
    const base = service.modelManifest;
    const version = `adapted-${path.basename(path.dirname(path.resolve(opts.catalog)))}-${Date.now()}`;
    const outDir = opts.adaptOut ?? path.join(os.tmpdir(), `twinlens-${version}`);
    process.stderr.write(`adapting ${base ?? PRETRAINED_BACKBONE_MANIFEST} on the catalog images of ${opts.catalog} into ${outDir}\n`);
    const started = Date.now();
    const { manifestPath } = await adaptModel({
      catalog: opts.catalog,
      baseManifest: base,
      outDir,
      version,
      budgetMinutes: opts.adaptBudgetMinutes,
      onProgress: (p) =>
        process.stderr.write(`\radapt ${p.stage} ${p.done}/${p.total}${p.etaS === null ? '' : `, about ${formatDuration(p.etaS)} left`}`.padEnd(70)),
    });
    process.stderr.write(`\nadapted in ${((Date.now() - started) / 60000).toFixed(1)} min: ${manifestPath}\n`);
    service.modelManifest = manifestPath;
  }
  const run = await runEval({
    catalogCsv: opts.catalog,
    queriesCsv: opts.queries,
    labelColumn: opts.labelColumn,
    service,
    shortlistK: opts.shortlistK,
    verification: opts.verification,
    evidenceFile: opts.evidenceFile,
    feedback: opts.feedback,
    onProgress: (stage, done, total) => process.stderr.write(`\r${stage} ${done}/${total}   `),
  });
  process.stderr.write('\n');
  if (opts.report !== false) {
    const file = opts.report ?? path.join('reports', `eval-${run.report.model!.version.replace(/[^\w.-]/g, '_')}.html`);
    run.report.report_html = await writeHtmlReport(run, { file });
  }
  console.log(opts.json ? JSON.stringify(run.report) : formatReport(run.report));
}
