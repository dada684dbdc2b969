import * as fs from 'node:fs/promises';
import { ExampleLabel } from '../../gen/twinlens/v1/twinlens.js';
import { addExamples, connect } from '../client.js';
import { type ClientSecurityFlags, clientSecurityOptionsFrom } from '../security-flags.js';

/** `twinlens confirm PHOTO item:ID [--different]`: one confirmed example through AddExamples. */
export async function confirmCommand(
  photo: string,
  item: string,
  opts: { server: string; different?: boolean; meta: string[]; json?: boolean } & ClientSecurityFlags,
): Promise<void> {
  if (!item.startsWith('item:') || item.length === 'item:'.length) throw new Error(`'${item}': expected item:ID`);
  const itemId = item.slice('item:'.length);
  const metadata = Object.fromEntries(
    opts.meta.map((m) => {
      const at = m.indexOf('=');
      if (at < 1) throw new Error(`--meta '${m}': expected key=value`);
      return [m.slice(0, at), m.slice(at + 1)];
    }),
  );
  const label = opts.different ? ExampleLabel.EXAMPLE_LABEL_DIFFERENT : ExampleLabel.EXAMPLE_LABEL_SAME;
  const c = connect(opts.server, clientSecurityOptionsFrom(opts));
  try {
    const r = await addExamples(c.catalog, [{ itemId, image: await fs.readFile(photo), label, metadata }]);
    if (opts.json) return void console.log(JSON.stringify(r, null, 2));
    const o = r.outcomes[0];
    if (!o?.ok) throw new Error(`${o?.error?.codeName ?? 'failed'}: ${o?.error?.message ?? 'no outcome'}`);
    console.log(`example ${o.exampleId}: ${photo} ${opts.different ? 'does not show' : 'shows'} item ${itemId}`);
  } finally {
    c.close();
  }
}
