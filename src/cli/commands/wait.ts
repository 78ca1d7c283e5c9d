// kemu wait (TYPE NAME | TYPE/NAME | TYPE -l SEL | TYPE --all)
//   --for=condition=Ready[=true|false] | --for=delete | --for=jsonpath='{.status.phase}'=Running
//   [--timeout=30s]

import { isApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types.js';
import type { Command, CommandContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { forEachReporting } from '../each.js';
import { CliError } from '../errors.js';
import { evaluatePath, jsonpathText } from '../jsonpath.js';
import { objectRef, pluralRef } from '../names.js';
import { pollUntil } from '../poll.js';
import { selectObjects, type SelectedObject } from '../select.js';

export type WaitCondition =
  | { kind: 'delete' }
  | { kind: 'condition'; type: string; status: string }
  | { kind: 'jsonpath'; path: string; value: string | undefined };

export function parseWaitFor(spec: string | undefined): WaitCondition {
  if (!spec) throw new CliError('--for must be set to one of: delete, condition=condition-name[=condition-value] or jsonpath=\'{JSONPath expression}\'=[JSONPath value]');
  if (spec.toLowerCase() === 'delete') return { kind: 'delete' };
  const cond = /^condition=([^=]+)(?:=(.*))?$/i.exec(spec);
  if (cond) return { kind: 'condition', type: cond[1], status: cond[2] ?? 'true' };
  const jp = /^jsonpath=(.*)$/i.exec(spec);
  if (jp) {
    const expr = jp[1];
    if (expr.startsWith('{')) {
      const close = expr.indexOf('}');
      if (close < 0) throw new CliError(`unrecognized condition: "${spec}"`);
      const rest = expr.slice(close + 1);
      if (rest !== '' && !rest.startsWith('=')) throw new CliError(`unrecognized condition: "${spec}"`);
      return { kind: 'jsonpath', path: expr.slice(1, close), value: rest === '' ? undefined : rest.slice(1) };
    }
    const eq = expr.indexOf('=');
    return eq < 0 ? { kind: 'jsonpath', path: expr, value: undefined } : { kind: 'jsonpath', path: expr.slice(0, eq), value: expr.slice(eq + 1) };
  }
  throw new CliError(`unrecognized condition: "${spec}"`);
}

/** Whether a live object satisfies a condition or jsonpath wait. */
export function conditionMet(obj: KubeObject, cond: Exclude<WaitCondition, { kind: 'delete' }>): boolean {
  if (cond.kind === 'condition') {
    const conditions = ((obj.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? []);
    const c = conditions.find((x) => x.type?.toLowerCase() === cond.type.toLowerCase());
    return c !== undefined && (c.status ?? '').toLowerCase() === cond.status.toLowerCase();
  }
  const values = evaluatePath(obj, cond.path);
  if (cond.value === undefined) return values.some((v) => v !== null && v !== '' && !(Array.isArray(v) && v.length === 0));
  return values.length > 0 && values.every((v) => jsonpathText(v) === cond.value);
}

async function waitFor(ctx: CommandContext, t: SelectedObject, cond: WaitCondition, timeoutMs: number): Promise<void> {
  const client = ctx.client();
  const check = async (): Promise<boolean> => {
    try {
      const live = await client.get(t.r, t.namespace, t.name);
      return cond.kind !== 'delete' && conditionMet(live, cond);
    } catch (e) {
      if (cond.kind === 'delete' && isApiError(e) && e.code === 404) return true;
      throw e;
    }
  };
  if (!(await pollUntil(check, timeoutMs, ctx.signal))) throw new CliError(`timed out waiting for the condition on ${pluralRef(t.r)}/${t.name}`);
  ctx.out(`${objectRef(t.r, t.name)} condition met\n`);
}

export const waitCommand: Command = {
  name: 'wait',
  summary: 'Wait for a condition on one or many resources',
  flags: {
    for: { kind: 'string' },
    timeout: { kind: 'string' },
    selector: { kind: 'string', short: 'l' },
    'field-selector': { kind: 'string' },
    all: { kind: 'boolean' },
    filename: { kind: 'strings', short: 'f' },
  },
  async run(args, ctx) {
    const cond = parseWaitFor(args.string('for'));
    const timeoutMs = parseDuration(args.string('timeout') ?? '30s', 'timeout');
    const targets = await selectObjects(args.positionals, args, ctx);
    if (targets.length === 0) throw new CliError('no matching resources found');
    return forEachReporting(targets, ctx, (t) => waitFor(ctx, t, cond, timeoutMs));
  },
};
