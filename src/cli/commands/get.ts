// kemu get TYPE[,TYPE] [NAME...] | TYPE/NAME... [-o wide|yaml|json|name|jsonpath=...] [-l sel]
// [--field-selector sel] [-A] [-w [--watch-only]] [--show-labels]

import { isApiError } from '../../api/errors.js';
import { apiVersionOf, type ResourceType } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { Args } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { CliError, errorMessage } from '../errors.js';
import { formatObjects, parseOutputFormat, type OutputFormat } from '../printers/output.js';
import { TablePrinter } from '../printers/table.js';
import { parseTargets, requestNamespace, type Target } from '../targets.js';

interface Found {
  r: ResourceType;
  obj: KubeObject;
}

/** Items of a list lack nothing on the wire, but a fake or older server may leave kind out. */
function typedObject(r: ResourceType, obj: KubeObject): KubeObject {
  return obj.kind && obj.apiVersion ? obj : { ...obj, apiVersion: apiVersionOf(r), kind: r.kind };
}

export function noResourcesMessage(ctx: CommandContext, targets: Target[]): string {
  const namespaced = targets.some((t) => t.r.namespaced);
  return ctx.allNamespaces || !namespaced ? 'No resources found\n' : `No resources found in ${ctx.namespace} namespace.\n`;
}

async function fetchTargets(targets: Target[], args: Args, ctx: CommandContext): Promise<{ found: Found[]; errors: unknown[] }> {
  const client = ctx.client();
  const found: Found[] = [];
  const errors: unknown[] = [];
  for (const t of targets) {
    if (t.names) {
      for (const name of t.names) {
        try {
          found.push({ r: t.r, obj: typedObject(t.r, await client.get(t.r, requestNamespace(t.r, ctx), name)) });
        } catch (e) {
          if (!(args.bool('ignore-not-found') && isApiError(e) && e.code === 404)) errors.push(e);
        }
      }
    } else {
      const list = await client.list(t.r, requestNamespace(t.r, ctx, true), {
        labelSelector: args.string('selector'),
        fieldSelector: args.string('field-selector'),
      });
      found.push(...list.items.map((obj) => ({ r: t.r, obj: typedObject(t.r, obj) })));
    }
  }
  return { found, errors };
}

function printTables(found: Found[], targets: Target[], format: Extract<OutputFormat, { kind: 'table' }>, args: Args, ctx: CommandContext): void {
  let first = true;
  for (const t of targets) {
    const objs = found.filter((f) => f.r === t.r).map((f) => f.obj);
    if (objs.length === 0) continue;
    const printer = new TablePrinter(t.r, {
      wide: format.wide,
      withNamespace: ctx.allNamespaces && t.r.namespaced,
      withKind: targets.length > 1,
      showLabels: args.bool('show-labels'),
      now: ctx.now,
    });
    ctx.out(`${first ? '' : '\n'}${printer.print(objs)}`);
    first = false;
  }
}

/** -w: the current objects (unless --watch-only), then one row per change until interrupted. */
async function watch(target: Target, format: OutputFormat, args: Args, ctx: CommandContext): Promise<number> {
  const client = ctx.client();
  const namespace = requestNamespace(target.r, ctx, true);
  const fieldSelector = [args.string('field-selector'), ...(target.names ? [`metadata.name=${target.names[0]}`] : [])].filter(Boolean).join(',') || undefined;
  const opts = { labelSelector: args.string('selector'), fieldSelector };
  const list = await client.list(target.r, namespace, opts);
  const printer = new TablePrinter(target.r, {
    wide: format.kind === 'table' && format.wide,
    withNamespace: ctx.allNamespaces && target.r.namespaced,
    withKind: false,
    showLabels: args.bool('show-labels'),
    now: ctx.now,
  });
  const print = (objs: KubeObject[]): void => {
    if (objs.length === 0) return;
    if (format.kind === 'table') ctx.out(printer.print(objs));
    else for (const obj of objs) ctx.out(formatObjects(format, [{ r: target.r, obj: typedObject(target.r, obj) }], true) + (format.kind === 'yaml' ? '---\n' : ''));
  };
  if (!args.bool('watch-only')) {
    if (list.items.length === 0 && format.kind === 'table') ctx.err(noResourcesMessage(ctx, [target]));
    print(list.items);
  }
  const handle = client.watch(target.r, namespace, { ...opts, resourceVersion: list.metadata.resourceVersion }, (ev) => {
    if (ev.type !== 'BOOKMARK') print([ev.object]);
  });
  const stop = (): void => handle.stop();
  ctx.signal.addEventListener('abort', stop);
  try {
    await handle.done;
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
  return 0;
}

export const getCommand: Command = {
  name: 'get',
  summary: 'Display one or many resources',
  flags: {
    output: { kind: 'string', short: 'o' },
    selector: { kind: 'string', short: 'l' },
    'field-selector': { kind: 'string' },
    watch: { kind: 'boolean', short: 'w' },
    'watch-only': { kind: 'boolean' },
    'show-labels': { kind: 'boolean' },
    'ignore-not-found': { kind: 'boolean' },
  },
  async run(args, ctx) {
    const targets = parseTargets(args.positionals);
    if (targets.length === 0) {
      ctx.err('You must specify the type of resource to get. Use "kemu api-resources" for a complete list of supported resources.\n\n');
      throw new CliError('Required resource not specified.');
    }
    if (args.string('selector') && targets.some((t) => t.names)) throw new CliError('name cannot be provided when a selector is specified');
    const format = parseOutputFormat(args.string('output'));
    if (args.bool('watch') || args.bool('watch-only')) {
      if (targets.length > 1 || (targets[0].names?.length ?? 0) > 1) throw new CliError('you may only specify a single resource type');
      return watch(targets[0], format, args, ctx);
    }
    const { found, errors } = await fetchTargets(targets, args, ctx);
    if (format.kind === 'table') {
      if (found.length === 0 && errors.length === 0) ctx.err(noResourcesMessage(ctx, targets));
      printTables(found, targets, format, args, ctx);
    } else if (found.length > 0 || errors.length === 0) {
      const single = targets.length === 1 && targets[0].names?.length === 1;
      ctx.out(formatObjects(format, found, single));
    }
    for (const e of errors) ctx.err(`${errorMessage(e)}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};
