import { setTimeout as sleep } from 'node:timers/promises';
import { type AdaptationProgress, AdaptationState, adaptationStateToJSON } from '../../gen/twinlens/v1/twinlens.js';
import { connect, unaryCall } from '../client.js';
import { formatDuration } from '../../adapt/index.js';
import { type ClientSecurityFlags, clientSecurityOptionsFrom } from '../security-flags.js';

/** Flags of `twinlens adapt --examples`. */
export interface AdaptExamplesOptions extends ClientSecurityFlags {
  server: string;
  /** Budget of the learning, in minutes (0: the server's default). */
  budgetMinutes?: number;
  /** Return once started instead of following it to the end. */
  wait: boolean;
  /** Seconds between two progress polls. */
  pollSeconds: number;
  json?: boolean;
}

const STATE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [AdaptationState.ADAPTATION_STATE_RUNNING]: 'running',
  [AdaptationState.ADAPTATION_STATE_ADAPTED]: 'adapted',
  [AdaptationState.ADAPTATION_STATE_KEPT]: 'kept the serving model',
  [AdaptationState.ADAPTATION_STATE_FAILED]: 'failed',
});

function progressLine(a: AdaptationProgress): string {
  const elapsed = formatDuration(((a.finishedAtMs || Date.now()) - a.startedAtMs) / 1000);
  if (a.state !== AdaptationState.ADAPTATION_STATE_RUNNING) return `[${elapsed}] ${STATE_NAMES[a.state] ?? adaptationStateToJSON(a.state)}: ${a.reason}`;
  return `[${elapsed}] ${a.stage}${a.total > 0 ? ` ${a.done}/${a.total}` : ''}`;
}

/**
 * `twinlens adapt --examples`: asks a running server to learn from its confirmed examples
 * (StartAdaptation) and follows its progress in GetCatalogStats until the learned model serves or
 * the server keeps its model. Exits non-zero when the adaptation failed.
 */
export async function adaptExamplesCommand(o: AdaptExamplesOptions): Promise<void> {
  const c = connect(o.server, clientSecurityOptionsFrom(o));
  try {
    const started = await unaryCall(c.catalog.startAdaptation.bind(c.catalog), { budgetMinutes: o.budgetMinutes ?? 0 });
    let a = started.adaptation!;
    process.stderr.write(`adaptation started on ${o.server} with ${a.examples} confirmed photos\n`);
    let last = '';
    while (o.wait && a.state === AdaptationState.ADAPTATION_STATE_RUNNING) {
      await sleep(o.pollSeconds * 1000);
      const stats = await unaryCall(c.catalog.getCatalogStats.bind(c.catalog), {});
      // Another adaptation can only start once this one ended: a different start time means this one is over.
      if (!stats.adaptation || stats.adaptation.startedAtMs !== a.startedAtMs) throw new Error('the server no longer reports this adaptation (did it restart?)');
      a = stats.adaptation;
      const line = progressLine(a);
      if (line.replace(/^\[[^\]]*\] /, '') !== last) process.stderr.write(`${line}\n`);
      last = line.replace(/^\[[^\]]*\] /, '');
    }
    if (o.json) console.log(JSON.stringify({ ...a, state: adaptationStateToJSON(a.state) }, null, 2));
    else console.log(o.wait ? progressLine(a) : `started; its progress is in GetCatalogStats (adaptation)`);
    if (a.state === AdaptationState.ADAPTATION_STATE_FAILED) process.exitCode = 1;
  } finally {
    c.close();
  }
}
