import type { BenchReport, BenchTarget } from './bench-report.js';

/** Renders rows as an aligned text table: text columns left-aligned, numeric ones right-aligned. */
export function textTable(header: string[], rows: string[][], indent = '  '): string {
  const cells = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+[x%]?$|^-$/.test(r[c] ?? '')));
  const line = (r: string[]): string =>
    indent + r.map((v, c) => (numeric[c] ? (v ?? '').padStart(widths[c]) : (v ?? '').padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');

function verdict(t: BenchTarget): string {
  return t.met ? 'met' : 'MISSED';
}

/**
 * The headline figures of a report as one flat object (what the JSON line at the end of
 * {@link formatBenchReport} holds, for a README to quote).
 */
export function benchSummary(r: BenchReport): Record<string, unknown> {
  const raw = (b: number) => r.raw.batches.find((x) => x.batchSize === b)!;
  // search[0]: micro-batching on, search[1]: off, then (allStages) on with every optional stage, and with none.
  const cs = r.settings.concurrencies;
  const search: Record<string, unknown> = {};
  r.search.forEach((m, i) => {
    for (const l of m.levels.filter((x) => cs.includes(x.concurrency))) {
      const key = i === 2 ? 'all_stages' : i === 3 ? 'no_stages' : m.microBatching;
      search[`${key}_c${l.concurrency}`] = { p50_ms: +l.p50Ms.toFixed(2), p95_ms: +l.p95Ms.toFixed(2), per_s: +l.searchesPerSec.toFixed(1) };
    }
    search[`${i === 2 ? 'all_stages' : i === 3 ? 'no_stages' : m.microBatching}_compare_c1`] = { p50_ms: +m.compare.p50Ms.toFixed(2), p95_ms: +m.compare.p95Ms.toFixed(2) };
  });
  return {
    twinlens_bench: 1,
    quick: r.quick,
    started_at: r.startedAt,
    cpu: r.machine.cpuModel,
    cores: r.machine.cores,
    node: r.machine.nodeVersion,
    provider: r.raw.provider,
    raw_b1_img_s: +raw(1).imagesPerSec.toFixed(1),
    raw_b1_ms: +raw(1).p50RunMs.toFixed(2),
    raw_b16_img_s: +raw(16).imagesPerSec.toFixed(1),
    ingest_img_s: +r.ingest.imagesPerSec.toFixed(1),
    ingest_items_s_searchable: +r.ingest.imagesPerSec.toFixed(2),
    ingest_items_s_refined: +r.ingest.refinedItemsPerSec.toFixed(2),
    catalog_views: r.served.catalogViews,
    catalog_views_in_background: r.served.catalogViewsInBackground,
    query_mirror: r.served.queryMirror,
    raw_int8_b16_img_s: r.rawInt8 ? +r.rawInt8.result.batches.find((b) => b.batchSize === 16)!.imagesPerSec.toFixed(1) : null,
    ratio_int8_over_fp32_b16: r.rawInt8 ? +(r.rawInt8.result.batches.find((b) => b.batchSize === 16)!.imagesPerSec / raw(16).imagesPerSec).toFixed(3) : null,
    decode_only_img_s: +r.ingest.decodeOnly.imagesPerSec.toFixed(1),
    catalog_items: r.catalog.total,
    search,
    ratio_ingest_over_raw_b16: +r.ratios.ingestOverRawBatch16.toFixed(3),
    ratio_search_p50_over_raw_b1_on: +r.ratios.searchP50OverRawEmbedOn.toFixed(3),
    ratio_search_p50_over_raw_b1_off: +r.ratios.searchP50OverRawEmbedOff.toFixed(3),
    raw_b1_ms_alongside_search: r.ratios.rawEmbedPaired ? +r.ratios.rawEmbedMsOn.toFixed(2) : null,
    raw_b16_img_s_alongside_ingest: r.ratios.rawBatch16Paired ? +r.ratios.rawBatch16ImagesPerSec.toFixed(1) : null,
    ratio_search_throughput_on_over_off: +r.ratios.searchThroughputOnOverOff.toFixed(3),
    all_stages: r.search[2]?.stages ?? null,
    ratio_all_stages_search_p50_over_raw_b1: r.ratios.allStagesP50OverRawEmbed === undefined ? null : +r.ratios.allStagesP50OverRawEmbed.toFixed(3),
    ratio_search_p50_defaults_over_no_stages: r.ratios.searchP50OverNoStages === undefined ? null : +r.ratios.searchP50OverNoStages.toFixed(3),
    ratio_searches_s_defaults_over_no_stages: r.ratios.searchThroughputOverNoStages === undefined ? null : +r.ratios.searchThroughputOverNoStages.toFixed(3),
    warm_examples: r.warmPath?.examples ?? null,
    warm_examples_per_s: r.warmPath ? +r.warmPath.examplesPerSec.toFixed(1) : null,
    warm_adapt_outcome: r.warmPath?.outcome ?? null,
    warm_adapt_learn_s: r.warmPath ? +(r.warmPath.learnMs / 1000).toFixed(1) : null,
    warm_adapt_learn_s_per_1000_examples: r.warmPath ? +r.warmPath.learnSecondsPer1000Examples.toFixed(1) : null,
    warm_adapt_roll_in_s: r.warmPath ? +(r.warmPath.rollInMs / 1000).toFixed(1) : null,
    targets_met: r.targets.every((t) => t.met),
    unstable: r.stability.warning !== undefined,
  };
}

/**
 * A bench report as text: machine, the raw model, ingest and search tables, the ratios against
 * their targets, and as the last line the {@link benchSummary} JSON (one line, prefixed `json `).
 */
export function formatBenchReport(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `twinlens-dev bench (${r.quick ? 'QUICK smoke run: figures only indicative' : 'full run'}) started ${r.startedAt}, took ${f1(r.elapsedMs / 1000)} s`,
  );
  out.push(`machine: ${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.platform}/${m.arch}, load average ${m.loadAverage1m} at start, ${r.loadAverage1mEnd} at end`);
  out.push(
    `runtime: node ${m.nodeVersion}, onnxruntime-node ${m.onnxruntimeVersion}, sharp ${m.sharpVersion} ` +
      `(concurrency ${m.sharpConcurrency}), UV_THREADPOOL_SIZE ${m.uvThreadpoolSize}`,
  );
  out.push(
    `model:   ${r.model.name} (${r.model.version}), ${r.model.inputSize} px, ${r.model.embeddingDim}-d; provider ${r.raw.provider}, ` +
      `intraOpThreads ${r.raw.intraOpThreads === 0 ? '0 (one per core)' : r.raw.intraOpThreads}`,
  );
  out.push(`photos:  ${r.images.method}; ${r.images.ingest} ingest + ${r.images.queries} query photos, mean ${f1(r.images.meanBytes / 1024)} KiB`);
  const sv = r.served;
  out.push(
    `served:  the service's settings (as make run): catalogViews ${sv.catalogViews}` +
      `${sv.catalogViews > 0 ? (sv.catalogViewsInBackground ? ' refined in the background' : ' averaged in before the upsert returns') : ''}, ` +
      `catalogViewWorkers ${sv.catalogViewWorkers}, queryMirror ${sv.queryMirror}, maxBatchSize ${sv.maxBatchSize}, maxBatchWaitMs ${sv.maxBatchWaitMs}, ` +
      `intraOpThreads ${sv.intraOpThreads}, decodeProcesses ${sv.decodeProcesses}, model ${sv.modelManifest}`,
  );
  out.push('');

  out.push('1. Raw model: ONNX Runtime session opened as the service opens it, pre-made input tensors, after warm-up');
  out.push(
    textTable(
      ['batch', 'runs', 'images/s', 'p50 ms/run', 'p95 ms/run', 'ms/image', 'cpu pressure'],
      r.raw.batches.map((b) => [
        String(b.batchSize),
        String(b.runs),
        f1(b.imagesPerSec),
        f1(b.p50RunMs),
        f1(b.p95RunMs),
        f2(b.meanRunMs / b.batchSize),
        b.cpuPressure === null ? '-' : `${Math.round(b.cpuPressure * 100)}%`,
      ]),
    ),
  );
  if (r.rawInt8) {
    const fp32 = (b: number) => r.raw.batches.find((x) => x.batchSize === b)?.imagesPerSec;
    out.push(`   int8 model (${r.rawInt8.manifest}), same session settings:`);
    out.push(
      textTable(
        ['batch', 'images/s', 'p50 ms/run', 'x fp32'],
        r.rawInt8.result.batches.map((b) => [String(b.batchSize), f1(b.imagesPerSec), f1(b.p50RunMs), fp32(b.batchSize) ? f2(b.imagesPerSec / fp32(b.batchSize)!) : '-']),
      ),
    );
  }
  out.push('');

  const ing = r.ingest;
  out.push(
    `2. Ingest over gRPC: ${ing.images} x ${r.images.width}x${r.images.height} JPEG (mean ${f1(ing.meanImageBytes / 1024)} KiB) in ` +
      `${ing.rounds} UpsertItems stream(s), server maxBatchSize ${ing.maxBatchSize}, maxBatchWaitMs ${ing.maxBatchWaitMs}, ` +
      `after ${ing.warmupImages} warm-up items`,
  );
  const raw16Rows: string[][] = [['raw model, batch 16 (section 1)', f1(r.raw.batches.find((b) => b.batchSize === 16)!.imagesPerSec)]];
  if (ing.pairedRawBatch16) {
    raw16Rows.push([`raw model, batch 16, timed between the ${ing.rounds} ingest streams`, f1(ing.pairedRawBatch16.imagesPerSec)]);
  }
  out.push(
    textTable(
      ['figure', 'images/s'],
      [
        ['ingest to searchable, items/s (decode + embed + commit, all on the server)', f1(ing.imagesPerSec)],
        [`ingest to refined, items/s (${sv.catalogViews} simulated views in every vector)`, f2(ing.refinedItemsPerSec)],
        [`decode alone (service decoder, ${ing.decodeOnly.concurrency} in flight)`, f1(ing.decodeOnly.imagesPerSec)],
        ...raw16Rows,
        ['shared-core ceiling 1/(1/decode + 1/raw16)', f1(ing.sharedCoreCeilingImagesPerSec)],
      ],
    ),
  );
  const bd = ing.breakdown;
  out.push(`   where one item's time goes (stage alone, mean of ${bd.items} items one at a time, ${bd.views} views):`);
  out.push(
    textTable(
      ['stage', 'ms/item'],
      [
        [`simulation of ${bd.views} photos`, f1(bd.simulateMs)],
        [`decode (clean + ${bd.views} photos)`, f1(bd.decodeMs)],
        ['model, clean image alone (the searchable path)', f1(bd.modelCleanMs)],
        [`model, clean + ${bd.views} photos in one run (refinement)`, f1(bd.modelViewsMs)],
        ['commit (table, blob, index)', f1(bd.commitMs)],
      ],
    ),
  );
  if (ing.refinement) {
    const rf = ing.refinement;
    const per = (ms: number) => f1(ms / Math.max(1, rf.refined));
    out.push(
      `   background refiner over the run: ${rf.refined} rows; per row (concurrent rows overlap): simulate ${per(rf.simulateMs)} ms, ` +
        `decode ${per(rf.decodeMs)} ms, model ${per(rf.embedMs)} ms, commit ${per(rf.commitMs)} ms`,
    );
  }
  out.push('');

  out.push(`3. Search over gRPC: catalog of ${r.catalog.total} items, top ${r.settings.topK}, ${r.images.queries} query photos round-robin`);
  out.push(`   catalog: ${r.catalog.method}`);
  const rows: string[][] = [];
  for (const mode of r.search) {
    for (const l of mode.levels) {
      rows.push([
        mode.microBatching === 'on' ? `on (${mode.maxBatchSize}, ${mode.maxBatchWaitMs} ms)` : 'off (1)',
        mode.stages.join(' + ') || 'none',
        String(l.concurrency),
        String(l.searches),
        f1(l.p50Ms),
        f1(l.p95Ms),
        f1(l.searchesPerSec),
        f1(l.server.decodeMs),
        f1(l.server.cutoutMs),
        f1(l.server.embedMs),
        f1(l.server.shortlistMs),
        f1(l.server.rerankMs),
        f1(l.server.colorMs),
        f1(l.server.textMs),
        f1(l.server.totalMs),
        l.paired ? f1(l.paired.baselineP50Ms) : '-',
      ]);
    }
  }
  out.push(
    textTable(
      ['micro-batching', 'stages', 'clients', 'searches', 'p50 ms', 'p95 ms', 'searches/s', 'srv decode', 'srv cut-out', 'srv embed', 'srv scan', 'srv rerank', 'srv color', 'srv text', 'srv total', 'raw b1 ms'],
      rows,
    ),
  );
  out.push('   stages: the optional Search stages that were on (query cut-out, colour and text evidence, the evidence head weighing them, the pair head\'s rerank).');
  out.push('   Compare(photo, catalog item) on each server, 1 client:');
  out.push(
    textTable(
      ['micro-batching', 'stages', 'calls', 'p50 ms', 'p95 ms', 'scored by', 'srv embed', 'srv color', 'srv text', 'srv head', 'srv total'],
      r.search.map((mode) => [
        mode.microBatching === 'on' ? `on (${mode.maxBatchSize}, ${mode.maxBatchWaitMs} ms)` : 'off (1)',
        mode.stages.join(' + ') || 'none',
        String(mode.compare.calls),
        f1(mode.compare.p50Ms),
        f1(mode.compare.p95Ms),
        mode.compare.scoredBy.replace('RANKING_STAGE_', '').toLowerCase(),
        f1(mode.compare.server.embedMs),
        f1(mode.compare.server.colorMs),
        f1(mode.compare.server.textMs),
        f1(mode.compare.server.rerankMs),
        f1(mode.compare.server.totalMs),
      ]),
    ),
  );
  out.push('   srv *: p50 of the stage timings the server returns (embed includes waiting for the model; scan = shortlist).');
  if (r.ratios.rawEmbedPaired) {
    out.push('   raw b1 ms: p50 of raw batch-1 model runs timed in blocks of 10 alternating with blocks of these searches.');
  }
  out.push('');

  const w = r.warmPath;
  if (w) {
    out.push(`4. Warm path: ${w.examples} confirmed photos of ${w.items} items (one per watch), then one adaptation (the server's exampleAdapter)`);
    out.push(
      textTable(
        ['figure', 'value'],
        [
          ['AddExamples, examples/s (decode + embed + commit, one stream)', f1(w.examplesPerSec)],
          [`adaptation: ${w.outcome}`, w.reason.length > 90 ? `${w.reason.slice(0, 87)}...` : w.reason],
          ['adaptation, learning s (base-network embedding, fit, held-out check, write)', f1(w.learnMs / 1000)],
          ['adaptation, learning s per 1,000 examples', f1(w.learnSecondsPer1000Examples)],
          [`adaptation, roll-in s (background re-embed of ${w.items} items and their examples)`, f1(w.rollInMs / 1000)],
        ],
      ),
    );
    out.push('');
  }

  out.push('Ratios (all figures from this run)');
  const ra = r.ratios;
  const low = r.settings.concurrencies[0];
  const targetRow = (t: BenchTarget): string[] => [t.name, f2(t.value), `${t.comparison} ${t.target}`, verdict(t)];
  const divisor = (ms: number): string => `${f1(ms)} ms ${ra.rawEmbedPaired ? 'timed alongside' : 'from section 1'}`;
  out.push(
    textTable(
      ['ratio', 'value', 'target', 'verdict'],
      [
        targetRow(r.targets[0]),
        targetRow(r.targets[1]),
        [`search p50 (concurrency ${low}, micro-batching off) / raw embed batch 1`, f2(ra.searchP50OverRawEmbedOff), '-', ''],
        [`searches/s at concurrency ${ra.throughputConcurrency}, micro-batching on / off`, f2(ra.searchThroughputOnOverOff), '-', ''],
        ...(ra.allStagesP50OverRawEmbed === undefined
          ? []
          : [
              [`search p50 (concurrency ${low}, ${r.search[2].stages.join(' + ')}) / raw embed batch 1`, f2(ra.allStagesP50OverRawEmbed), '-', ''],
              ...r.targets.slice(2).map(targetRow),
              [`search p50 (concurrency ${low}), the defaults (${r.search[0].stages.join(' + ') || 'no optional stage'}) / no optional stage`, f2(ra.searchP50OverNoStages!), '-', ''],
              [`searches/s at concurrency ${ra.throughputConcurrency}, the defaults / no optional stage`, f2(ra.searchThroughputOverNoStages!), '-', ''],
            ]),
      ],
    ),
  );
  out.push(
    `  divisors: raw batch 16 ${f1(ra.rawBatch16ImagesPerSec)} img/s ${ra.rawBatch16Paired ? 'timed between the ingest streams' : 'from section 1'}; ` +
      `raw embed batch 1 ${divisor(ra.rawEmbedMsOn)} (micro-batching on), ${divisor(ra.rawEmbedMsOff)} (off)`,
  );
  const st = r.stability;
  const pct = (v: number | null): string => (v === null ? '-' : `${Math.round(v * 100)}%`);
  out.push(
    `  quiet-machine check: CPU pressure while timing the raw model ${pct(st.cpuPressure)}; its drift within the run: ` +
      `batch 16 ${pct(st.rawBatch16Drift)}, batch 1 ${pct(st.rawBatch1Drift)}`,
  );
  if (st.warning) out.push(`  WARNING: ${st.warning}`);
  out.push('');
  out.push(`json ${JSON.stringify(benchSummary(r))}`);
  return out.join('\n');
}
