// The lab verbs that manage a cluster on this host: up, down, status, demo, and the hidden
// control-plane verb that `up` runs as a detached process.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClusterConfig } from '../../api/cluster.js';
import { RESOURCES } from '../../api/resources.js';
import type { Node } from '../../api/types.js';
import type { Command, CommandContext } from '../context.js';
import { runControlPlane } from '../control-plane.js';
import { down, isClusterUp, up } from '../lifecycle.js';
import { applyCommand } from './apply.js';
import { parseArgs } from '../args.js';

const nodes = RESOURCES.find((r) => r.kind === 'Node')!;
const DEMO_MANIFEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../labs/demo/demo.yaml');

function nextSteps(cluster: string): string {
  const c = cluster === 'kemu' ? '' : ` --cluster ${cluster}`;
  return [
    `Cluster "${cluster}" is up. Try:`,
    `  kemu${c} get nodes`,
    `  kemu${c} get all -A`,
    `  kemu${c} apply -f labs/demo/demo.yaml`,
    `  kemu${c} get deploy,rs,pods,svc,endpointslices`,
    `  kemu${c} down`,
    '',
  ].join('\n');
}

export const upCommand: Command = {
  name: 'up',
  summary: 'Create a cluster on this host and start it',
  flags: {},
  async run(_args, ctx) {
    await up(defaultClusterConfig(ctx.cluster));
    ctx.out(nextSteps(ctx.cluster));
    return 0;
  },
};

export const downCommand: Command = {
  name: 'down',
  summary: 'Stop a cluster and remove everything it created',
  flags: {},
  async run(_args, ctx) {
    const wasUp = isClusterUp(ctx.cluster);
    await down(ctx.cluster);
    ctx.out(wasUp ? `Cluster "${ctx.cluster}" removed.\n` : `Cluster "${ctx.cluster}" was not running; its leftovers are removed.\n`);
    return 0;
  },
};

async function printStatus(ctx: CommandContext): Promise<number> {
  if (!isClusterUp(ctx.cluster)) {
    ctx.out(`Cluster "${ctx.cluster}" is not running.\n`);
    return 1;
  }
  const version = (await ctx.rawGet('/version')) as { gitVersion?: string };
  ctx.out(`Cluster "${ctx.cluster}": control plane running (API ${version.gitVersion ?? 'unknown'})\n`);
  const list = await ctx.client().list<Node>(nodes);
  if (list.items.length === 0) ctx.out('Nodes: none registered yet\n');
  for (const n of list.items) {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    ctx.out(`Node ${n.metadata.name}: ${ready ? 'Ready' : 'NotReady'}\n`);
  }
  return 0;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show whether a cluster runs, its components and their health',
  flags: {},
  run: (_args, ctx) => printStatus(ctx),
};

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Bring up the default lab cluster (if needed) with the demo objects',
  flags: {},
  async run(_args, ctx) {
    if (!isClusterUp(ctx.cluster)) await up(defaultClusterConfig(ctx.cluster));
    const code = await applyCommand.run(parseArgs(['-f', DEMO_MANIFEST], applyCommand.flags ?? {}), ctx);
    if (code !== 0) return code;
    ctx.out(nextSteps(ctx.cluster));
    return 0;
  },
};

export const controlPlaneCommand: Command = {
  name: 'control-plane',
  summary: '(internal) run the API server and controllers of a cluster in the foreground',
  flags: {},
  async run(_args, ctx) {
    await runControlPlane(ctx.cluster, ctx.signal);
    return 0;
  },
};
