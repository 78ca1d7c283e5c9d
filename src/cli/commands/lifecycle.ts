// The lab verbs that manage a cluster on this host — up, down, status, demo — and the two hidden
// verbs `up` runs as detached processes: control-plane and node-agent.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClusterConfig, type ClusterConfig } from '../../api/cluster.js';
import { RESOURCES } from '../../api/resources.js';
import type { Node } from '../../api/types.js';
import { listLabs } from '../../labs/catalog.js';
import type { Args } from '../args.js';
import { parseArgs } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { runControlPlane } from '../control-plane.js';
import { CliError } from '../errors.js';
import { down, isClusterUp, up } from '../lifecycle.js';
import { runNodeAgent } from '../node-agent.js';
import { applyCommand } from './apply.js';
import { activeText, componentStates } from './component.js';

const NODES = RESOURCES.find((r) => r.kind === 'Node')!;
const DEMO_MANIFEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../labs/demo/demo.yaml');

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`invalid argument "${value}" for "--${flag}" flag: must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** The cluster config `up` builds from its flags. */
function configFromFlags(cluster: string, args: Args): ClusterConfig {
  const config = defaultClusterConfig(cluster);
  const workers = args.int('nodes');
  if (workers !== undefined && (workers < 0 || workers > 20)) throw new CliError('--nodes must be between 0 and 20 (worker nodes besides the control plane)');
  return {
    ...config,
    workers: workers ?? config.workers,
    backend: oneOf('backend', args.string('backend'), ['vxlan', 'host-gw', 'none'], config.backend),
    proxyMode: oneOf('proxy-mode', args.string('proxy-mode'), ['iptables', 'nftables', 'ipvs'], config.proxyMode),
    underlayCIDR: args.string('underlay-cidr') ?? config.underlayCIDR,
  };
}

function nextSteps(cluster: string, nodes: { node: string; ip: string }[]): string {
  const c = cluster === 'kemu' ? '' : ` --cluster ${cluster}`;
  const ip = nodes[0]?.ip ?? '<node IP>';
  const labs = listLabs().map((l) => `  ${l.number}  ${l.spec.title}`);
  return [
    `Cluster "${cluster}" is up: ${nodes.map((n) => `${n.node} (${n.ip})`).join(', ')}.`,
    'Try:',
    `  kemu${c} get nodes -o wide`,
    `  kemu${c} apply -f labs/demo/demo.yaml && kemu${c} get pods -o wide`,
    `  kemu${c} exec <pod> -- dig web.default.svc.cluster.local     # cluster DNS (CoreDNS behind kube-dns 10.96.0.10)`,
    `  kemu${c} rules ${nodes[0]?.node ?? ''} --service default/web        # kube-proxy's rules for a Service`,
    `  curl -H 'Host: foo.example' http://${ip}:30080/               # the ingress (404 until an Ingress routes foo.example)`,
    `  curl -H 'Host: foo.example' http://<traefik's node IP>/          # the same on hostPort 80 of the node running traefik (kemu${c} get pods -n kube-system -o wide)`,
    `  ip netns exec ${nodes[0]?.node ?? `${cluster}-control-plane`} ip route             # a node's routes (flannel.1 to the others)`,
    `  kemu${c} down`,
    '',
    'Labs (kemu lab start NN, then follow labs/NN-*/README.md):',
    ...labs,
    '',
  ].join('\n');
}

const UP_FLAGS = {
  nodes: { kind: 'string' },
  backend: { kind: 'string' },
  'proxy-mode': { kind: 'string' },
  'underlay-cidr': { kind: 'string' },
} as const;

async function bringUp(args: Args, ctx: CommandContext): Promise<void> {
  const config = configFromFlags(ctx.cluster, args);
  const result = await up(config);
  for (const w of result.warnings) ctx.err(`warning: ${w}\n`);
  ctx.out(nextSteps(ctx.cluster, result.nodes));
}

export const upCommand: Command = {
  name: 'up',
  summary: 'Create a cluster on this host: nodes in network namespaces, overlay, control plane',
  flags: UP_FLAGS,
  async run(args, ctx) {
    await bringUp(args, ctx);
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
    ctx.out(wasUp ? `Cluster "${ctx.cluster}" removed.\n` : `Cluster "${ctx.cluster}" was not running; its leftovers (if any) are removed.\n`);
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
  const list = await ctx.client().list<Node>(NODES);
  if (list.items.length === 0) ctx.out('Nodes: none registered yet\n');
  // what the node agents say of their stoppable components (kemu component)
  const agents = await componentStates(ctx.cluster, list.items.map((n) => n.metadata.name as string), { action: 'status' });
  for (const [i, n] of list.items.entries()) {
    const cond = (type: string) => n.status?.conditions?.find((c) => c.type === type);
    const ready = cond('Ready')?.status === 'True' ? 'Ready' : 'NotReady';
    const network = cond('NetworkUnavailable')?.status === 'False' ? `network up (${cond('NetworkUnavailable')?.reason ?? ''})` : 'network not ready';
    const agent = agents[i]!;
    const components = agent.error ?? agent.states.map((s) => `${s.name} ${activeText(s)}`).join(', ');
    ctx.out(`Node ${n.metadata.name}: kubelet ${ready}, ${network}, podCIDR ${n.spec?.podCIDR ?? '<none>'}; ${components}\n`);
  }
  return 0;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show whether a cluster runs, its nodes and components and their health',
  flags: {},
  run: (_args, ctx) => printStatus(ctx),
};

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Bring up the default lab cluster (if needed) with the demo objects',
  flags: UP_FLAGS,
  async run(args, ctx) {
    if (!isClusterUp(ctx.cluster)) await bringUp(args, ctx);
    else ctx.out(`Cluster "${ctx.cluster}" is already up.\n`);
    const code = await applyCommand.run(parseArgs(['-f', DEMO_MANIFEST], applyCommand.flags ?? {}), ctx);
    if (code !== 0) return code;
    const c = ctx.cluster === 'kemu' ? '' : ` --cluster ${ctx.cluster}`;
    ctx.out(
      [
        '',
        'The demo is applied (labs/demo/demo.yaml): 3 agnhost netexec Pods behind Services web and web-nodeport (30007).',
        `  kemu${c} get pods -o wide                      # one Pod per node, each with its own IP`,
        `  kemu${c} exec <pod> -- curl -s http://web/hostname   # DNS, then the ClusterIP through kube-proxy`,
        `  curl http://<node IP>:30007/hostname            # the NodePort, from this host`,
        '',
      ].join('\n'),
    );
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

export const nodeAgentCommand: Command = {
  name: 'node-agent',
  summary: "(internal) run a node's kubelet, flannel and kube-proxy in the foreground, inside its namespace",
  flags: { node: { kind: 'string' }, 'node-ip': { kind: 'string' } },
  async run(args, ctx) {
    const node = args.string('node');
    const ip = args.string('node-ip');
    if (!node || !ip) throw new CliError('node-agent needs --node NAME and --node-ip IP');
    await runNodeAgent(ctx.cluster, node, ip, ctx.signal);
    return 0;
  },
};
