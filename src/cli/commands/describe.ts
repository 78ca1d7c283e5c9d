// kemu describe TYPE [NAME...] | TYPE/NAME | TYPE -l SEL: kubectl-shaped details of each object,
// separated by blank lines, with the events that involve it.

import type { KubeObject } from '../../api/types.js';
import type { Command } from '../context.js';
import { describerFor } from '../describe/index.js';
import { CliError, errorMessage } from '../errors.js';
import { parseTargets, requestNamespace } from '../targets.js';
import { noResourcesMessage } from './get.js';

export const describeCommand: Command = {
  name: 'describe',
  summary: 'Show details of a specific resource or group of resources',
  flags: { selector: { kind: 'string', short: 'l' } },
  async run(args, ctx) {
    const targets = parseTargets(args.positionals);
    if (targets.length === 0) throw new CliError('Required resource not specified.');
    const client = ctx.client();
    const blocks: string[] = [];
    let failed = false;
    for (const t of targets) {
      let objs: KubeObject[] = [];
      if (t.names) {
        for (const name of t.names) {
          try {
            objs.push(await client.get(t.r, requestNamespace(t.r, ctx), name));
          } catch (e) {
            failed = true;
            ctx.err(`${errorMessage(e)}\n`);
          }
        }
      } else {
        objs = (await client.list(t.r, requestNamespace(t.r, ctx, true), { labelSelector: args.string('selector') })).items;
      }
      for (const obj of objs) blocks.push(await describerFor(t.r)({ ...obj, kind: obj.kind || t.r.kind }, { client, now: ctx.now() }));
    }
    if (blocks.length === 0 && !failed) ctx.err(noResourcesMessage(ctx, targets));
    ctx.out(blocks.join('\n\n'));
    return failed ? 1 : 0;
  },
};
