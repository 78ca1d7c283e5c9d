// kemu patch TYPE NAME -p PATCH [--type merge|strategic|json] [--subresource status]
// Strategic merge patches are sent as JSON merge patches (lists are replaced, not merged by key);
// JSON patches are applied here and the difference sent as a merge patch.

import { createMergePatch } from '../../api/merge-patch.js';
import type { KubeObject } from '../../api/types.js';
import type { Command } from '../context.js';
import { forEachReporting } from '../each.js';
import { CliError } from '../errors.js';
import { applyJsonPatch, type JsonPatchOp } from '../json-patch.js';
import { objectRef } from '../names.js';
import { selectObjects } from '../select.js';

function parsePatch(text: string | undefined): unknown {
  if (text === undefined) throw new CliError('must specify --patch or --patch-file containing the contents of the patch');
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`unable to parse "${text}": yaml: did not find expected node content`);
  }
}

export const patchCommand: Command = {
  name: 'patch',
  summary: 'Update fields of a resource (merge patch, or a JSON patch)',
  flags: {
    patch: { kind: 'string', short: 'p' },
    type: { kind: 'string' },
    subresource: { kind: 'string' },
    filename: { kind: 'strings', short: 'f' },
  },
  async run(args, ctx) {
    const type = args.string('type') ?? 'strategic';
    if (!['merge', 'strategic', 'json'].includes(type)) throw new CliError(`--type must be one of [json merge strategic], not "${type}"`);
    const sub = args.string('subresource');
    if (sub !== undefined && sub !== 'status') throw new CliError(`invalid subresource value: "${sub}". Must be one of [status scale]`);
    const patch = parsePatch(args.string('patch'));
    if (type === 'json' && !Array.isArray(patch)) throw new CliError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    const targets = await selectObjects(args.positionals, args, ctx);
    const client = ctx.client();
    return forEachReporting(targets, ctx, async (t) => {
      const before = await client.get(t.r, t.namespace, t.name);
      const mergePatch = type === 'json' ? createMergePatch(before, applyJsonPatch(before, patch as JsonPatchOp[])) : patch;
      const after: KubeObject = sub === 'status' ? await client.patchStatus(t.r, t.namespace, t.name, mergePatch) : await client.patch(t.r, t.namespace, t.name, mergePatch);
      const unchanged = after.metadata.resourceVersion === before.metadata.resourceVersion;
      ctx.out(`${objectRef(t.r, t.name)} patched${unchanged ? ' (no change)' : ''}\n`);
    });
  },
};
