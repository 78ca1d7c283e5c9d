// kemu delete TYPE NAME... | TYPE/NAME | -f FILE | TYPE -l SEL | TYPE --all
// [--grace-period N] [--now] [--force] [--wait=false] [--timeout D]

import { isApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types.js';
import type { Command, CommandContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { forEachReporting } from '../each.js';
import { CliError, errorMessage, withSource } from '../errors.js';
import { pluralRef, singularRef } from '../names.js';
import { pollUntil } from '../poll.js';
import { selectObjects, type SelectedObject } from '../select.js';

/** How long --wait waits when --timeout is 0 (kubectl derives it from the objects). */
const DEFAULT_WAIT_MS = 60_000;

/** kubectl's rules: --now is 1s; 0 only with --force (else 1); --force alone means 0. */
function gracePeriod(requested: number | undefined, now: boolean, force: boolean): number | undefined {
  if (now) {
    if (requested !== undefined && requested !== -1) throw new CliError('--now and --grace-period cannot be specified together');
    return 1;
  }
  if (requested === undefined || requested < 0) return force ? 0 : undefined;
  if (requested === 0 && !force) return 1;
  return requested;
}

async function waitUntilGone(ctx: CommandContext, target: SelectedObject, uid: string | undefined, timeoutMs: number): Promise<void> {
  const client = ctx.client();
  const gone = await pollUntil(
    async () => {
      try {
        const live = await client.get(target.r, target.namespace, target.name);
        return uid !== undefined && live.metadata.uid !== uid;
      } catch (e) {
        if (isApiError(e) && e.code === 404) return true;
        throw e;
      }
    },
    timeoutMs,
    ctx.signal,
  );
  if (!gone) throw new CliError(`timed out waiting for the condition on ${pluralRef(target.r)}/${target.name}`);
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete resources by file names, stdin, resources and names, or by resources and label selector',
  flags: {
    filename: { kind: 'strings', short: 'f' },
    recursive: { kind: 'boolean', short: 'R' },
    selector: { kind: 'string', short: 'l' },
    'field-selector': { kind: 'string' },
    all: { kind: 'boolean' },
    'grace-period': { kind: 'string' },
    now: { kind: 'boolean' },
    force: { kind: 'boolean' },
    wait: { kind: 'boolean' },
    timeout: { kind: 'string' },
    'ignore-not-found': { kind: 'boolean' },
    output: { kind: 'string', short: 'o' },
  },
  async run(args, ctx) {
    const grace = gracePeriod(args.int('grace-period'), args.bool('now'), args.bool('force'));
    const timeoutMs = parseDuration(args.string('timeout') ?? '0s', 'timeout') || DEFAULT_WAIT_MS;
    const output = args.string('output');
    if (output !== undefined && output !== 'name') throw new CliError(`unable to match a printer suitable for the output format "${output}", allowed formats are: name`);
    if (grace === 0) ctx.err('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n');
    const targets = await selectObjects(args.positionals, args, ctx);
    if (targets.length === 0) {
      if (!args.bool('ignore-not-found')) ctx.err('No resources found\n');
      return 0;
    }
    const deleted: { target: SelectedObject; uid: string | undefined }[] = [];
    const code = await forEachReporting(targets, ctx, async (t) => {
      let result: KubeObject | { kind: 'Status' };
      try {
        result = (await ctx.client().delete(t.r, t.namespace, t.name, grace !== undefined ? { gracePeriodSeconds: grace } : undefined)) as KubeObject;
      } catch (e) {
        if (args.bool('ignore-not-found') && isApiError(e) && e.code === 404) return;
        throw t.source ? withSource(e, 'deleting', t.source) : e;
      }
      ctx.out(output === 'name' ? `${singularRef(t.r)}/${t.name}\n` : `${singularRef(t.r)} "${t.name}" ${grace === 0 ? 'force deleted' : 'deleted'}\n`);
      const uid = result.kind !== 'Status' ? (result as KubeObject).metadata?.uid : undefined;
      deleted.push({ target: t, uid });
    });
    if (!args.bool('wait', true)) return code;
    let waitFailed = false;
    for (const d of deleted) {
      try {
        await waitUntilGone(ctx, d.target, d.uid, timeoutMs);
      } catch (e) {
        waitFailed = true;
        ctx.err(`${errorMessage(e)}\n`);
      }
    }
    return waitFailed ? 1 : code;
  },
};
