import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import type { BenchmarkItem } from './benchmark-csv.js';
import type { EvalReport, RetrievalMetrics } from './metrics.js';
import type { EvalRun, QueryDetail } from './run-eval.js';
import { learningCurveSvg } from './feedback.js';

export interface HtmlReportOptions {
  /** Where to write the page; its folder is created. */
  file: string;
  /** Side of the thumbnails' longer edge, in pixels. Default 128. */
  thumbPx?: number;
  /** Most failed queries shown (the page stays a few MB). Default 400. */
  maxFailures?: number;
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A small inline JPEG (data URL), so the page is one self-contained file. */
async function thumb(file: string, px: number): Promise<string> {
  try {
    const jpeg = await sharp(file).rotate().resize(px, px, { fit: 'inside' }).jpeg({ quality: 70 }).toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return '';
  }
}

const f3 = (x: number): string => x.toFixed(3);
/** Probabilities near 0 or 1 keep their digits (a head's 1e-5 and 1e-9 differ in rank). */
const fScore = (x: number): string => (x > 0 && x < 0.001 ? x.toExponential(1) : x > 0.999 && x < 1 ? `1-${(1 - x).toExponential(1)}` : f3(x));

function metricsTable(title: string, overall: Omit<RetrievalMetrics, 'n'>, n: number, byCat: Record<string, RetrievalMetrics>): string {
  const row = (name: string, k: number, m: Omit<RetrievalMetrics, 'n'>): string =>
    `<tr><td>${esc(name)}</td><td>${k}</td><td>${f3(m.recall_at_1)}</td><td>${f3(m.recall_at_5)}</td><td>${f3(m.mrr)}</td></tr>`;
  return `<h3>${esc(title)}</h3><table><tr><th>category</th><th>n</th><th>R@1</th><th>R@5</th><th>MRR</th></tr>
${row('overall', n, overall)}${Object.entries(byCat).map(([c, m]) => row(c, m.n, m)).join('')}</table>`;
}

/** The heading of the final order's table, by the stage that ranked it. */
const RANKED_BY_TITLE: Record<EvalReport['ranked_by'], string> = {
  embedding: 'Embedding order',
  pair_head: 'Reranked by the pair head',
  evidence_head: 'Re-scored by the evidence head',
  text: 'Re-scored by the text evidence',
  color: 'Re-scored by the colour evidence',
};

function summary(r: EvalReport): string {
  const parts = [
    `<p>model <b>${esc(r.model?.name ?? '?')}</b> version <code>${esc(r.model?.version ?? '?')}</code>, ranked by <b>${r.ranked_by}</b>` +
      (r.shortlist_k ? `, shortlist ${r.shortlist_k}` : '') +
      (r.rerank_ms ? `, rerank ${r.rerank_ms.mean.toFixed(1)} ms/query (p95 ${r.rerank_ms.p95.toFixed(1)})` : '') +
      '</p>',
  ];
  if (r.shortlist_only && r.shortlist_only_by_category) {
    parts.push(metricsTable('Shortlist only (embedding order)', r.shortlist_only, r.n, r.shortlist_only_by_category));
  }
  parts.push(metricsTable(RANKED_BY_TITLE[r.ranked_by], r.overall, r.n, r.by_category));
  if (r.feedback) {
    const f = r.feedback;
    parts.push(
      `<h3>Confirmed photos</h3><p>${f.examples} fed (${f.per_item} per item, ${f.items_with_feedback} items, fraction ${f.item_fraction}), ` +
        `scored by <b>${esc(f.scoring)}</b>; adapted: ${f.adapted ? 'yes' : 'no'} (${esc(f.adapt_reason)})</p>`,
    );
  }
  if (r.by_feedback) {
    const row = (name: string, m: RetrievalMetrics): string => `<tr><td>${name}</td><td>${m.n}</td><td>${f3(m.recall_at_1)}</td><td>${f3(m.recall_at_5)}</td><td>${f3(m.mrr)}</td></tr>`;
    parts.push(
      `<table><tr><th>items</th><th>n</th><th>R@1</th><th>R@5</th><th>MRR</th></tr>${row('with confirmed photos', r.by_feedback.with)}${row('without', r.by_feedback.without)}</table>`,
    );
  }
  if (r.learning_curve?.length) {
    parts.push(`<h3>Learning curve: recall against confirmed photos per item</h3>${learningCurveSvg(r.learning_curve)}`);
  }
  const v = r.verification;
  if (v) {
    parts.push(
      `<h3>Compare (verification), ${v.positives} same / ${v.negatives} different pairs, scored by ${v.scored_by}</h3>` +
        `<p>ROC AUC ${f3(v.roc_auc)}, TAR ${f3(v.tar_at_far_1)} at 1% FAR, EER ${f3(v.eer)}; at the model's threshold ${v.threshold.toFixed(4)}: ` +
        `TAR ${f3(v.tar_at_threshold)}, FAR ${f3(v.far_at_threshold)}` +
        (v.embedding_cosine ? `. Embedding cosine on the same pairs: AUC ${f3(v.embedding_cosine.roc_auc)}, TAR ${f3(v.embedding_cosine.tar_at_far_1)} at 1% FAR` : '') +
        '</p>',
    );
  }
  return parts.join('\n');
}

/**
 * Writes a self-contained HTML page: the figures, then every failed query (correct item not at
 * rank 1) beside its top 5 hits, with the correct item framed in green and its rank in both orders.
 */
export async function writeHtmlReport(run: EvalRun, options: HtmlReportOptions): Promise<string> {
  const px = options.thumbPx ?? 128;
  const byId = new Map<string, BenchmarkItem>(run.items.map((i) => [i.itemId, i]));
  // Each catalog thumbnail is defined once, as a CSS class, however many rows show it.
  const itemThumbs = new Map<string, string>();
  const css: string[] = [];
  for (const [i, it] of run.items.entries()) {
    itemThumbs.set(it.itemId, `c${i}`);
    css.push(`.c${i}{background-image:url(${await thumb(it.imagePath, px)})}`);
  }
  const label = (id: string): string => esc(byId.get(id)?.metadata.name ?? id);
  const failed = run.queries.filter((q) => q.query.itemId && q.rank !== 1);
  const shown = failed.slice(0, options.maxFailures ?? 400);
  const rows: string[] = [];
  for (const q of shown) rows.push(await failureRow(q, px, itemThumbs, label));
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>twinlens eval</title><style>
body{font:14px system-ui,sans-serif;margin:20px}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.q{display:flex;gap:8px;align-items:flex-start;margin:10px 0;padding:6px;border-bottom:1px solid #ddd}
figure{margin:0;width:${px + 8}px;font-size:11px}figure img{max-width:${px}px;max-height:${px}px;border:3px solid transparent}
.ok img,.ok .t{border-color:#2a2}.query img{border-color:#48c}
.t{width:${px}px;height:${px}px;background:center/contain no-repeat;border:3px solid transparent}
${css.join('\n')}</style></head><body>
<h2>twinlens eval</h2>${summary(run.report)}
<h3>Failed queries: ${failed.length} of ${run.queries.length}${shown.length < failed.length ? ` (first ${shown.length} shown)` : ''}</h3>
${rows.join('\n')}</body></html>`;
  await fs.mkdir(path.dirname(path.resolve(options.file)), { recursive: true });
  await fs.writeFile(options.file, html);
  return path.resolve(options.file);
}

async function failureRow(q: QueryDetail, px: number, itemThumbs: Map<string, string>, label: (id: string) => string): Promise<string> {
  const rank = (r: number | null): string => (r === null ? 'not found' : `rank ${r}`);
  const head = `<figure class="query"><img src="${await thumb(q.query.imagePath, px)}"><figcaption>${esc(path.basename(q.query.imagePath))}<br>${esc(q.query.topCategory)}<br>wanted <b>${label(q.query.itemId)}</b>: ${rank(q.rank)}${q.shortlistRank !== q.rank ? ` (shortlist ${rank(q.shortlistRank)})` : ''}</figcaption></figure>`;
  const want = `<figure class="ok"><div class="t ${itemThumbs.get(q.query.itemId)}"></div><figcaption>correct: ${label(q.query.itemId)}</figcaption></figure>`;
  const hits = q.top
    .map(
      (h, i) =>
        `<figure class="${h.itemId === q.query.itemId ? 'ok' : ''}"><div class="t ${itemThumbs.get(h.itemId)}"></div><figcaption>${i + 1}. ${label(h.itemId)}<br>score ${fScore(h.score)}${h.coarseScore !== h.score ? ` cos ${f3(h.coarseScore)}` : ''}</figcaption></figure>`,
    )
    .join('');
  return `<div class="q">${head}${want}<span style="width:16px"></span>${hits}</div>`;
}
