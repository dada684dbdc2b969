import type { TwinlensOptions } from '../../config/index.js';
import { type EvalReport, runEval } from '../../eval/index.js';
import { formatTable } from '../format-table.js';

/** Human-readable form of an eval report. */
export function formatReport(r: EvalReport): string {
  const row = (name: string, n: number, m: { recall_at_1: number; recall_at_5: number; mrr: number }): string[] => [
    name,
    String(n),
    m.recall_at_1.toFixed(3),
    m.recall_at_5.toFixed(3),
    m.mrr.toFixed(3),
  ];
  const rows = [row('overall', r.n, r.overall), ...Object.entries(r.by_category).map(([c, m]) => row(c, m.n, m))];
  return `ranked by: ${r.ranked_by}\n${formatTable(['category', 'n', 'R@1', 'R@5', 'MRR'], rows)}`;
}

/** `twinlens eval --catalog FILE --queries FILE`: Recall@1/@5 and MRR, overall and per top_category. */
export async function evalCommand(opts: { catalog: string; queries: string; json?: boolean; service: Partial<TwinlensOptions> }): Promise<void> {
  const report = await runEval({
    catalogCsv: opts.catalog,
    queriesCsv: opts.queries,
    service: opts.service,
    onProgress: (stage, done, total) => process.stderr.write(`\r${stage} ${done}/${total}   `),
  });
  process.stderr.write('\n');
  console.log(opts.json ? JSON.stringify(report) : formatReport(report));
}
