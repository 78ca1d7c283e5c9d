// The objects a mutating verb (delete, label, annotate, wait, ...) acts on: named on the command
// line, read from -f, or every object of a type that matches -l / --all.

import type { ResourceType } from '../api/resources.js';
import type { Args } from './args.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { readManifests } from './manifests.js';
import { parseTargets, placeManifest, requestNamespace } from './targets.js';

export interface SelectedObject {
  r: ResourceType;
  namespace: string | undefined;
  name: string;
  /** The file it was named in, for error messages. */
  source?: string;
}

export const NO_RESOURCES_GIVEN =
  "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'";

/**
 * Resolve the objects; `positionals` are the command's resource words (label and annotate take
 * their KEY=VALUE words out first). -l and --all list the type in the namespace (or all with -A).
 */
export async function selectObjects(positionals: string[], args: Args, ctx: CommandContext): Promise<SelectedObject[]> {
  const files = args.strings('filename');
  if (files.length > 0) {
    const manifests = await readManifests(files, { recursive: args.bool('recursive'), stdin: ctx.stdin });
    return manifests.map((m) => {
      const placed = placeManifest(m.object, m.source, ctx);
      if (!placed.name) throw new CliError(`resource name may not be empty (from "${m.source}")`);
      return { r: placed.r, namespace: placed.namespace, name: placed.name, source: m.source };
    });
  }
  const targets = parseTargets(positionals);
  if (targets.length === 0) throw new CliError(NO_RESOURCES_GIVEN);
  const selector = args.string('selector');
  const selected: SelectedObject[] = [];
  for (const t of targets) {
    if (t.names) {
      if (selector) throw new CliError('name cannot be provided when a selector is specified');
      selected.push(...t.names.map((name) => ({ r: t.r, namespace: requestNamespace(t.r, ctx), name })));
    } else if (selector !== undefined || args.bool('all')) {
      const list = await ctx.client().list(t.r, requestNamespace(t.r, ctx, true), { labelSelector: selector, fieldSelector: args.string('field-selector') });
      selected.push(...list.items.map((o) => ({ r: t.r, namespace: o.metadata.namespace, name: o.metadata.name ?? '' })));
    } else {
      throw new CliError('resource(s) were provided, but no name was specified');
    }
  }
  return selected;
}
