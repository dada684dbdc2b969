import * as fs from 'node:fs/promises';
import { type ImageRef, type RankingStage, rankingStageToJSON } from '../../gen/twinlens/v1/twinlens.js';
import { connect, unaryCall } from '../client.js';
import { type ClientSecurityFlags, clientSecurityOptionsFrom } from '../security-flags.js';
import { formatTable } from '../format-table.js';

/** `item:ID` names a catalog item; anything else is an image file. */
async function imageRefFrom(arg: string): Promise<ImageRef> {
  if (arg.startsWith('item:')) return { source: { $case: 'itemId', value: arg.slice('item:'.length) } };
  return { source: { $case: 'image', value: await fs.readFile(arg) } };
}

/** `twinlens search IMAGE`: the top hits as a table (or JSON). */
export async function searchCommand(
  image: string,
  opts: { server: string; topK: number; filter: string[]; json?: boolean } & ClientSecurityFlags,
): Promise<void> {
  const filter = Object.fromEntries(
    opts.filter.map((f) => {
      const at = f.indexOf('=');
      if (at < 1) throw new Error(`--filter '${f}': expected key=value`);
      return [f.slice(0, at), f.slice(at + 1)];
    }),
  );
  const c = connect(opts.server, clientSecurityOptionsFrom(opts));
  try {
    const r = await unaryCall(c.twinlens.search.bind(c.twinlens), { image: await fs.readFile(image), topK: opts.topK, shortlistK: 0, filter });
    if (opts.json) return void console.log(JSON.stringify(r, null, 2));
    console.log(
      formatTable(
        ['rank', 'item_id', 'score', 'name'],
        r.hits.map((h, i) => [i + 1, h.itemId, h.score.toFixed(4), h.metadata.name ?? '']),
      ),
    );
    const t = r.timings!;
    // The optional stages, when they ran.
    const all: [string, number][] = [
      ['cut-out', t.cutoutMs],
      ['rerank', t.rerankMs],
      ['colour', t.colorMs],
      ['text', t.textMs],
    ];
    const stages = all.filter(([, ms]) => ms > 0);
    console.log(
      `\n${r.candidatesScanned} candidates; decode ${t.decodeMs.toFixed(1)} ms, embed ${t.embedMs.toFixed(1)} ms, ` +
        `shortlist ${t.shortlistMs.toFixed(1)} ms, ${stages.map(([name, ms]) => `${name} ${ms.toFixed(1)} ms, `).join('')}` +
        `total ${t.totalMs.toFixed(1)} ms (model ${r.modelVersion}, ranked by ${stageName(r.rankedBy)})`,
    );
  } finally {
    c.close();
  }
}

/** `twinlens compare A B`: the score and the match decision. */
export async function compareCommand(
  a: string,
  b: string,
  opts: { server: string; json?: boolean } & ClientSecurityFlags,
): Promise<void> {
  const c = connect(opts.server, clientSecurityOptionsFrom(opts));
  try {
    const r = await unaryCall(c.twinlens.compare.bind(c.twinlens), { a: await imageRefFrom(a), b: await imageRefFrom(b) });
    if (opts.json) return void console.log(JSON.stringify(r, null, 2));
    console.log(`score ${r.score.toFixed(4)} (threshold ${r.threshold.toFixed(4)}, scored by ${stageName(r.scoredBy)}): ${r.match ? 'MATCH' : 'no match'}`);
  } finally {
    c.close();
  }
}

/** `RANKING_STAGE_PAIR_HEAD` -> `pair_head`. */
function stageName(stage: RankingStage): string {
  return rankingStageToJSON(stage).replace(/^RANKING_STAGE_/, '').toLowerCase();
}
