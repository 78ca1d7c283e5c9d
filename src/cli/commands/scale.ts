// kemu scale TYPE NAME --replicas=N [--current-replicas=M]: deployments and replicasets.

import type { Deployment } from '../../api/types.js';
import type { Command } from '../context.js';
import { forEachReporting } from '../each.js';
import { CliError } from '../errors.js';
import { objectRef } from '../names.js';
import { selectObjects } from '../select.js';

const SCALABLE = new Set(['deployments', 'replicasets']);

export const scaleCommand: Command = {
  name: 'scale',
  summary: 'Set a new size for a deployment or replica set',
  flags: {
    replicas: { kind: 'string' },
    'current-replicas': { kind: 'string' },
    selector: { kind: 'string', short: 'l' },
    all: { kind: 'boolean' },
    filename: { kind: 'strings', short: 'f' },
  },
  async run(args, ctx) {
    const replicas = args.int('replicas');
    if (replicas === undefined) throw new CliError('required flag(s) "replicas" not set');
    if (replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
    const current = args.int('current-replicas');
    const targets = await selectObjects(args.positionals, args, ctx);
    const client = ctx.client();
    return forEachReporting(targets, ctx, async (t) => {
      if (!SCALABLE.has(t.r.plural)) throw new CliError(`cannot scale ${t.r.plural}: only deployments and replicasets can be scaled`);
      if (current !== undefined) {
        const live = await client.get<Deployment>(t.r, t.namespace, t.name);
        const have = live.spec.replicas ?? 1;
        if (have !== current) throw new CliError(`Expected replicas to be ${current}, was ${have}`);
      }
      await client.patch(t.r, t.namespace, t.name, { spec: { replicas } });
      ctx.out(`${objectRef(t.r, t.name)} scaled\n`);
    });
  },
};
