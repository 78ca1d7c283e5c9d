// What `kemu label` and `kemu annotate` share: KEY=VALUE and KEY- words after the resources, the
// --overwrite rule, and one merge patch of metadata.labels or metadata.annotations per object.

import type { Args } from './args.js';
import type { Command, CommandContext } from './context.js';
import { forEachReporting } from './each.js';
import { CliError } from './errors.js';
import { objectRef } from './names.js';
import { selectObjects } from './select.js';

export interface MetadataChanges {
  set: Record<string, string>;
  remove: string[];
}

/** Split the positionals into resource words and KEY=VALUE / KEY- changes, as kubectl does. */
export function splitChanges(positionals: string[], what: 'label' | 'annotation'): { resources: string[]; changes: MetadataChanges } {
  const resources: string[] = [];
  const changes: MetadataChanges = { set: {}, remove: [] };
  for (const p of positionals) {
    const eq = p.indexOf('=');
    if (eq >= 0) {
      const key = p.slice(0, eq);
      if (key === '') throw new CliError(`invalid ${what} spec: ${p}`);
      changes.set[key] = p.slice(eq + 1);
    } else if (p.endsWith('-') && p.length > 1) {
      changes.remove.push(p.slice(0, -1));
    } else {
      resources.push(p);
    }
  }
  for (const k of changes.remove) {
    if (k in changes.set) throw new CliError(`can not both modify and remove ${what}s in the same command`);
  }
  return { resources, changes };
}

/** The merge patch for one object's map, or an error when --overwrite is needed; undefined: nothing to change. */
export function metadataPatch(current: Record<string, string> | undefined, changes: MetadataChanges, overwrite: boolean): Record<string, string | null> | undefined {
  const have = current ?? {};
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(changes.set)) {
    if (k in have && have[k] !== v && !overwrite) throw new CliError(`'${k}' already has a value (${have[k]}), and --overwrite is false`);
    if (have[k] !== v) patch[k] = v;
  }
  for (const k of changes.remove) if (k in have) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export function metadataCommand(verb: 'label' | 'annotate'): Command {
  const field = verb === 'label' ? 'labels' : 'annotations';
  const what = verb === 'label' ? 'label' : 'annotation';
  const done = verb === 'label' ? 'labeled' : 'annotated';
  return {
    name: verb,
    summary: verb === 'label' ? 'Update the labels on a resource' : 'Update the annotations on a resource',
    flags: {
      overwrite: { kind: 'boolean' },
      selector: { kind: 'string', short: 'l' },
      all: { kind: 'boolean' },
      filename: { kind: 'strings', short: 'f' },
    },
    async run(args: Args, ctx: CommandContext) {
      const { resources, changes } = splitChanges(args.positionals, what);
      if (Object.keys(changes.set).length === 0 && changes.remove.length === 0) throw new CliError(`at least one ${what} update is required`);
      const targets = await selectObjects(resources, args, ctx);
      const client = ctx.client();
      return forEachReporting(targets, ctx, async (t) => {
        const live = await client.get(t.r, t.namespace, t.name);
        const patch = metadataPatch(live.metadata[field], changes, args.bool('overwrite'));
        if (patch) await client.patch(t.r, t.namespace, t.name, { metadata: { [field]: patch } });
        ctx.out(`${objectRef(t.r, t.name)} ${patch ? done : `not ${done}`}\n`);
      });
    },
  };
}
