// kemu apply -f FILE: create what does not exist, patch what changed since the last apply (three-way,
// see ../apply-patch.ts), and say which: `deployment.apps/web created|configured|unchanged`.

import { isApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types.js';
import { readLastApplied, threeWayMergePatch, withLastApplied } from '../apply-patch.js';
import type { Command, CommandContext } from '../context.js';
import { forEachReporting } from '../each.js';
import { CliError, withSource } from '../errors.js';
import { readManifests, type Manifest } from '../manifests.js';
import { objectRef, pluralRef } from '../names.js';
import { placeManifest } from '../targets.js';

type ApplyOutcome = 'created' | 'configured' | 'unchanged';

async function applyOne(m: Manifest, ctx: CommandContext): Promise<string> {
  const { r, namespace, name } = placeManifest(m.object, m.source, ctx);
  if (!name) throw new CliError(`error when retrieving current configuration of resource from "${m.source}": resource name may not be empty`);
  const client = ctx.client();
  const modified = withLastApplied(m.object);
  let live: KubeObject | undefined;
  try {
    live = await client.get(r, namespace, name);
  } catch (e) {
    if (!isApiError(e) || e.code !== 404) throw withSource(e, 'retrieving current configuration of', m.source);
  }
  let outcome: ApplyOutcome;
  if (!live) {
    await client.create(r, namespace, modified).catch((e: unknown) => {
      throw withSource(e, 'creating', m.source);
    });
    outcome = 'created';
  } else {
    const original = readLastApplied(live);
    if (!original) {
      ctx.err(
        `Warning: resource ${pluralRef(r)}/${name} is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kemu apply. ` +
          `kemu apply should only be used on resources created declaratively by either kemu create --save-config or kemu apply. The missing annotation will be patched automatically.\n`,
      );
    }
    const patch = threeWayMergePatch(original, modified, live);
    if (Object.keys(patch).length === 0) outcome = 'unchanged';
    else {
      await client.patch(r, namespace, name, patch).catch((e: unknown) => {
        throw withSource(e, 'patching', m.source);
      });
      outcome = 'configured';
    }
  }
  return `${objectRef(r, name)} ${outcome}\n`;
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Apply a configuration to a resource by file name or stdin',
  flags: {
    filename: { kind: 'strings', short: 'f' },
    recursive: { kind: 'boolean', short: 'R' },
  },
  async run(args, ctx) {
    const files = args.strings('filename');
    if (files.length === 0) throw new CliError('must specify one of -f and -k');
    const manifests = await readManifests(files, { recursive: args.bool('recursive'), stdin: ctx.stdin });
    if (manifests.length === 0) throw new CliError('no objects passed to apply');
    return forEachReporting(manifests, ctx, async (m) => ctx.out(await applyOne(m, ctx)));
  },
};
