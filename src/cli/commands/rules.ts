// kemu rules [NODE] [--table nat|filter] [--service NS/NAME]: a node's kube-proxy ruleset as the
// kernel tools print it inside the node's namespace — iptables-save (iptables mode), `nft list
// table ip kube-proxy` (nftables mode) or `ipvsadm -Ln` (IPVS mode; --table shows the iptables
// rules IPVS mode keeps beside it) — optionally cut down to one Service's part.

import { loadClusterConfig } from '../../api/cluster.js';
import { RESOURCES } from '../../api/resources.js';
import type { Service } from '../../api/types.js';
import { nodeNetnsName } from '../../cni/topology/names.js';
import { filterIpvsadm, filterIptablesSave, filterNftTable, type ServiceRef } from '../../proxy/ruleset-filter.js';
import { execIn, netnsExists } from '../../sys/netns.js';
import type { Command, CommandContext } from '../context.js';
import { CliError } from '../errors.js';

const SERVICES = RESOURCES.find((r) => r.kind === 'Service')!;
const TABLES = new Set(['nat', 'filter', 'mangle', 'raw']);

function parseServiceRef(value: string, namespace: string): ServiceRef {
  const parts = value.split('/');
  if (parts.length === 1 && parts[0]) return { namespace, name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  throw new CliError(`invalid --service "${value}": expected NAMESPACE/NAME (or NAME in the current namespace)`);
}

async function toolOutput(netns: string, command: string, args: string[]): Promise<string> {
  const r = await execIn(netns, command, args, { allowFailure: true, timeoutMs: 60_000 });
  if (r.code !== 0) throw new CliError(`${command} ${args.join(' ')} on node ${netns} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The ruleset text of the node, already reduced to the Service when one is given. */
async function rulesText(ctx: CommandContext, netns: string, table: string | undefined, svc: ServiceRef | undefined): Promise<string> {
  const mode = loadClusterConfig(ctx.cluster).proxyMode;
  // Looking the Service up first turns a typo into NotFound instead of an empty listing.
  const service = svc === undefined ? undefined : await ctx.client().get<Service>(SERVICES, svc.namespace, svc.name);
  if (mode === 'nftables') {
    if (table !== undefined) throw new CliError('--table applies to iptables and IPVS modes; this cluster runs kube-proxy in nftables mode (one table: ip kube-proxy)');
    const text = await toolOutput(netns, 'nft', ['list', 'table', 'ip', 'kube-proxy']);
    return svc === undefined ? text : filterNftTable(text, svc);
  }
  if (mode === 'ipvs' && table === undefined) {
    const text = await toolOutput(netns, 'ipvsadm', ['-Ln']);
    if (service === undefined) return text;
    const ips = [service.spec.clusterIP, ...(service.spec.externalIPs ?? []), ...(service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)];
    const ports = (service.spec.ports ?? []).map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port, nodePort: p.nodePort }));
    return filterIpvsadm(text, { ips: ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None'), ports });
  }
  const text = await toolOutput(netns, 'iptables-save', table === undefined ? [] : ['-t', table]);
  return svc === undefined ? text : filterIptablesSave(text, svc);
}

export const rulesCommand: Command = {
  name: 'rules',
  summary: "Print a node's kube-proxy rules (iptables-save, nft list table or ipvsadm -Ln)",
  flags: {
    table: { kind: 'string', short: 't' },
    service: { kind: 'string' },
  },
  async run(args, ctx) {
    if (args.positionals.length > 1) throw new CliError('kemu rules takes at most one NODE');
    const node = (args.positionals[0] ?? `${ctx.cluster}-control-plane`).replace(/^nodes?\//, '');
    const netns = nodeNetnsName(node);
    if (!netnsExists(netns)) throw new CliError(`node "${node}" of cluster "${ctx.cluster}" has no network namespace (is the cluster up? kemu get nodes lists its nodes)`);
    const table = args.string('table');
    if (table !== undefined && !TABLES.has(table)) throw new CliError(`invalid --table "${table}": one of nat, filter, mangle, raw`);
    const service = args.string('service');
    const svc = service === undefined ? undefined : parseServiceRef(service, ctx.namespace);
    const text = await rulesText(ctx, netns, table, svc);
    if (text === '' && svc !== undefined) ctx.err(`No rules for service ${svc.namespace}/${svc.name} on node ${node}.\n`);
    ctx.out(text);
    return 0;
  },
};
