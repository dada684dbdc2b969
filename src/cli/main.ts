#!/usr/bin/env node
import { Command } from 'commander';
import { int, wholeNumber } from './arg-parsers.js';
import { DEFAULT_OPTIONS, PACKAGE_VERSION } from '../config/index.js';
import { calibrateCommand } from './commands/calibrate.js';
import { evalCommand } from './commands/eval.js';
import { indexCommand } from './commands/index-catalog.js';
import { compareCommand, searchCommand } from './commands/query.js';
import { serveCommand } from './commands/serve.js';
import { simulateCommand } from './commands/simulate.js';
import { adaptCommand } from './commands/adapt.js';
import { adaptExamplesCommand } from './commands/adapt-examples.js';
import { confirmCommand } from './commands/confirm.js';
import { addClientSecurityFlags } from './security-flags.js';
import { addOptionFlags, serviceOptionsFrom } from './option-flags.js';

const VERSION = PACKAGE_VERSION;


/** `all` or a whole number of confirmed photos per item. */
function perItemCount(value: string): number | 'all' {
  return value.trim() === 'all' ? 'all' : wholeNumber(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const defaultServer = `127.0.0.1:${DEFAULT_OPTIONS.port}`;
const program = new Command('twinlens')
  .description('Visual similarity search and same-item verification over gRPC')
  .version(VERSION);

// Every service option's flag (src/config/option-schema.ts); flags given override TWINLENS_* variables.
addOptionFlags(
  program.command('serve').description('run the gRPC service (seeds an empty catalog with generated demo watches)'),
  'serve',
).action((_o, cmd: Command) => serveCommand(serviceOptionsFrom(cmd, 'serve')));

program
  .command('index <source>')
  .description('upload a folder of images or a catalog.csv to a running server')
  .option('--server <address>', 'server address', defaultServer)
  .option('--chunk <n>', 'items per UpsertItems call', int, 256)
  .action((source, o) => indexCommand(source, o));

program
  .command('search <image>')
  .description('print the top catalog hits for an image')
  .option('--server <address>', 'server address', defaultServer)
  .option('-k, --top-k <n>', 'number of hits', int, 10)
  .option('--filter <key=value>', 'metadata filter (repeatable)', collect, [])
  .option('--json', 'print the raw response as JSON')
  .action((image, o) => searchCommand(image, o));

program
  .command('compare <a> <b>')
  .description('score two images (a path, or item:ID for a catalog item)')
  .option('--server <address>', 'server address', defaultServer)
  .option('--json', 'print the raw response as JSON')
  .action((a, b, o) => compareCommand(a, b, o));

program
  .command('confirm <photo> <item>')
  .description('tell the server that a photo shows a catalog item (item:ID), or with --different that it does not')
  .option('--server <address>', 'server address', defaultServer)
  .option('--different', 'the photo does NOT show the item (a hard negative)')
  .option('--meta <key=value>', 'metadata of the example (repeatable)', collect, [])
  .option('--json', 'print the raw response as JSON')
  .action((photo, item, o) => confirmCommand(photo, item, o));

addOptionFlags(
  program
    .command('eval')
    .description('Recall@1/@5 and MRR (shortlist-only and reranked) and Compare ROC AUC / TAR@1%FAR of a benchmark (catalog.csv + queries.csv), in-process')
    .requiredOption('--catalog <file>', 'catalog.csv')
    .requiredOption('--queries <file>', 'queries.csv')
    .option('--json', 'print one JSON object')
    .option('--shortlist-k <n>', 'candidates the pair head reranks', int, DEFAULT_OPTIONS.defaultShortlistK)
    .option('--report <file>', 'HTML report of failed queries and their top 5 (default reports/eval-<model version>.html)')
    .option('--no-report', 'write no HTML report')
    .option('--no-verification', "skip Compare's verification figures")
    .option('--evidence-file <file>', "write each query's evidence (cosine, colour, text of its top hits) as JSON lines: the evidence head's training data")
    .option('--label-column <name>', "column of both csvs whose value is a class many items share: also report label_match (a hit is right when its label is the query's)", 'label')
    .option('--adapt', "first adapt a copy of the model on the benchmark's catalog images (never its photos), then evaluate with it")
    .option('--adapt-out <dir>', 'where --adapt writes the adapted model (default a temporary folder)')
    .option('--adapt-budget-minutes <m>', 'time budget of --adapt, and of the adapt step after --feedback (default 20)', Number)
    .option('--feedback <file>', 'confirm photos from this csv (queries.csv format) through the AddExamples path, then adapt, then measure')
    .option('--feedback-per-item <k>', "confirmed photos per item: the first K in file order, or 'all'", perItemCount, 'all')
    .option('--feedback-item-fraction <f>', 'confirm photos for this fraction of the items only (by a hash of the item id); recall is reported apart for both halves', Number)
    .option('--learning-curve', 'also measure K = 0, 1, 3, 10 on the way to --feedback-per-item (json learning_curve, a chart in the HTML report)')
    .option('--compare-scorings', 'with --learning-curve: measure every point both with fold and with best-view (one embedded catalog)'),
  'model',
).action((o, cmd: Command) =>
  evalCommand({
    catalog: o.catalog,
    queries: o.queries,
    json: o.json,
    service: serviceOptionsFrom(cmd, 'model'),
    shortlistK: o.shortlistK,
    report: o.report === false ? false : typeof o.report === 'string' ? o.report : undefined,
    verification: o.verification,
    evidenceFile: o.evidenceFile,
    labelColumn: o.labelColumn,
    adapt: o.adapt,
    adaptOut: o.adaptOut,
    adaptBudgetMinutes: o.adaptBudgetMinutes,
    feedback: o.feedback
      ? {
          csv: o.feedback,
          perItem: o.feedbackPerItem,
          itemFraction: o.feedbackItemFraction,
          learningCurve: o.learningCurve,
          scorings: o.compareScorings ? ['fold', 'best-view'] : undefined,
          adaptBudgetMinutes: o.adaptBudgetMinutes,
        }
      : undefined,
  }),
);

addOptionFlags(
  program
    .command('calibrate')
    .description("calibrate Compare's match threshold on generated watch pairs")
    .option('--items <n>', 'generated items (one positive and five negative pairs each)', int, 80)
    .option('--write', "store the threshold in the model's manifest"),
  'model',
).action((o, cmd: Command) => calibrateCommand({ write: o.write, items: o.items, service: serviceOptionsFrom(cmd, 'model') }));

program
  .command('simulate')
  .description('write simulated phone-photo views of catalog items, decoded as serving decodes them (training data)')
  .option('--catalog <source>', 'catalog.csv or a folder of images')
  .option('--queries <file>', 'also dump benchmark photos (queries.csv) through the same decoder: evaluation only')
  .option('--views <k>', 'simulated views per item (each item also gets one clean view)', int, 16)
  .option('--out <dir>', 'output folder (views.u8 + views.json, queries.u8 + queries.json)')
  .option('--sheet <file.png>', 'instead: write a contact sheet of samples (generated watches, or --catalog items)')
  .option('--sheet-items <n>', 'rows of the contact sheet', int, 6)
  .option('--seed <n>', 'seed of every random choice', int, 1)
  .option('--concurrency <n>', 'benchmark photos decoded at once (--queries)', int, 4)
  .option('--workers <n>', 'simulation worker threads (default: one per core; 0: in-process)', int)
  .option('--generic-items <n>', 'append n generic clip-art items (openclipart, not used as clutter) after the catalog items', int)
  .option('--backgrounds <dirs>', 'comma-separated folders of real background photos (default: /usr/share/backgrounds when present)')
  .option('--no-backgrounds', 'no real background photos (procedural surfaces and synthetic shelves only)')
  .option('--clipart <dir>', 'folder of transparent clip-art PNGs for shelves, clutter, occluders (default: /usr/share/openclipart/png when present)')
  .option('--no-clipart', 'no clip-art')
  .option('--model <manifest>', 'model whose input size the views are decoded to', DEFAULT_OPTIONS.modelManifest)
  .action((o) => simulateCommand(o));

program
  .command('adapt')
  .description(
    'with --catalog: fine-tune the twin and its pair head on simulated photos of your catalog (writes a new model version); ' +
      'with --examples: have a running server learn from its confirmed photos and roll the result in',
  )
  .option('--catalog <source>', 'catalog.csv or a folder of catalog images')
  .option('--examples', "learn from the confirmed examples of the server at --server (StartAdaptation), following its progress")
  .option('--server <address>', 'server address (--examples)', defaultServer)
  .option('--no-wait', 'return once the adaptation started (--examples)')
  .option('--poll-seconds <s>', 'seconds between two progress reads (--examples)', Number, 2)
  .option('--json', 'print the final status as JSON (--examples)')
  .option('--model <manifest>', 'model to start from (default: the pretrained backbone, models/mobilenet_v2_140)')
  .option('--out <dir>', 'output model folder (default: models/adapted-<UTC time>)')
  .option('--model-version <v>', 'version string of the new model (default: <base>+adapted-<time>)')
  .option('--budget-minutes <m>', 'budget of the whole run: simulation + training + export (default 60; --examples: of the learning, default 20)', Number)
  .option('--views <k>', 'simulated views per item (default: sized to the budget)', int)
  .option('--seed <n>', 'simulation seed', int, 1)
  .option('--workers <n>', 'simulation worker threads (default: one per core)', int)
  .option('--keep-views <dir>', 'keep the simulated views in this folder')
  .option('--generic-items <n>', 'also train on n generic clip-art items (openclipart) as extra classes', int)
  .option('--smoke', 'a few training steps only (tests the path, not a useful model)')
  .action((o) => {
    if (o.examples) return adaptExamplesCommand(o);
    if (!o.catalog) throw new Error('adapt needs --catalog <source> (simulated photos of a catalog) or --examples (a server learns from its confirmed photos)');
    return adaptCommand({ ...o, budgetMinutes: o.budgetMinutes ?? 60 });
  });

// Client-side TLS and bearer-token flags (security-flags.ts) on the commands that call a server.
program.commands.filter((c) => ['index', 'search', 'compare', 'confirm', 'adapt'].includes(c.name())).forEach((c) => addClientSecurityFlags(c));

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as { details?: string; message?: string };
  console.error(`twinlens: ${err.details ?? err.message ?? String(e)}`);
  process.exit(1);
});
