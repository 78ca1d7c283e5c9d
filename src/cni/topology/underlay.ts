// The underlay: one Linux bridge in the root namespace (the "switch" between nodes) and one network
// namespace per node, plugged into the bridge with a veth pair whose node end is that node's eth0.
// This is the only thing kemu changes in the root namespace: the bridge, its address (and the
// connected route that address brings) and the veth ends on it. Node namespaces get no default
// route, so a packet for an address kemu does not own dies inside kemu's namespaces.
//
// Creation is idempotent (re-running `up` converges) and write-ahead recorded in the ledger.

import fs from 'node:fs';
import type { ClusterConfig } from '../../api/cluster.js';
import { ipBatch, type BatchLine } from '../../sys/iproute.js';
import { createNetns, netnsExists } from '../../sys/netns.js';
import { writeSysctls, type SysctlSetting } from '../../sys/sysctl.js';
import { formatIPv4, networkOf, parsePrefix } from '../plugin/ipv4.js';
import { recordResource } from './ledger.js';
import { NODE_UPLINK, nodeNetnsName, nodeVethName, underlayBridgeName } from './names.js';

export interface NodeUnderlay {
  node: string;
  netns: string;
  /** The root-namespace end of the node's veth, enslaved to the bridge. */
  veth: string;
  /** The node's eth0 address, e.g. 172.18.0.2. */
  ip: string;
}

export interface UnderlayPlan {
  bridge: string;
  /** The bridge's address, the first host of the underlay CIDR. */
  gateway: string;
  prefixLength: number;
  /** The Services' range, routed on-link in every node (see nodeLines). */
  serviceCIDR: string;
  nodes: NodeUnderlay[];
}

/** Which names and addresses a cluster with these nodes uses (pure). */
export function planUnderlay(config: ClusterConfig, nodes: readonly string[]): UnderlayPlan {
  const prefix = parsePrefix(config.underlayCIDR);
  if (prefix === undefined) throw new Error(`cluster ${config.name}: underlayCIDR ${JSON.stringify(config.underlayCIDR)} is not an IPv4 CIDR`);
  const network = networkOf(prefix);
  // network address, bridge, nodes..., broadcast
  const capacity = 2 ** (32 - prefix.length) - 3;
  if (nodes.length > capacity) {
    throw new Error(`cluster ${config.name}: underlayCIDR ${config.underlayCIDR} has room for ${Math.max(capacity, 0)} nodes, not ${nodes.length}`);
  }
  return {
    bridge: underlayBridgeName(config.name),
    gateway: formatIPv4(network + 1),
    prefixLength: prefix.length,
    serviceCIDR: config.serviceCIDR,
    nodes: nodes.map((node, i) => ({
      node,
      netns: nodeNetnsName(node),
      veth: nodeVethName(config.name, node),
      ip: formatIPv4(network + 2 + i),
    })),
  };
}

/** Per-node kernel settings (new namespaces start from kernel defaults, not the host's values). */
export const NODE_SYSCTLS: readonly SysctlSetting[] = [
  { key: 'net.ipv4.ip_forward', value: 1 },
  // Overlay traffic is asymmetric by nature (flannel.1's .0 source, pod replies): no strict rp_filter.
  { key: 'net.ipv4.conf.all.rp_filter', value: 0 },
  { key: 'net.ipv4.conf.default.rp_filter', value: 0 },
  // Pod-to-pod traffic on one bridge must cross iptables for Service DNAT; needs br_netfilter.
  { key: 'net.bridge.bridge-nf-call-iptables', value: 1, optional: true },
  { key: 'net.bridge.bridge-nf-call-ip6tables', value: 1, optional: true },
];

function rootLines(plan: UnderlayPlan): BatchLine[] {
  const lines: BatchLine[] = [
    { args: ['link', 'add', plan.bridge, 'type', 'bridge'], tolerate: 'exists' },
    // replace: adds the address, or leaves it as it is on a re-run (add would fail "already assigned")
    { args: ['addr', 'replace', `${plan.gateway}/${plan.prefixLength}`, 'dev', plan.bridge] },
    { args: ['link', 'set', plan.bridge, 'up'] },
  ];
  for (const n of plan.nodes) {
    // The peer is created straight inside the node namespace: an `eth0` never exists in the root one.
    lines.push({ args: ['link', 'add', n.veth, 'type', 'veth', 'peer', 'name', NODE_UPLINK, 'netns', n.netns], tolerate: 'exists' });
    lines.push({ args: ['link', 'set', n.veth, 'master', plan.bridge, 'up'] });
  }
  return lines;
}

function nodeLines(plan: UnderlayPlan, n: NodeUnderlay): BatchLine[] {
  return [
    { args: ['link', 'set', 'lo', 'up'] },
    { args: ['addr', 'replace', `${n.ip}/${plan.prefixLength}`, 'dev', NODE_UPLINK] },
    { args: ['link', 'set', NODE_UPLINK, 'up'] },
    // A node reaches ClusterIPs itself (curl from the node, as on a real one): kube-proxy's OUTPUT
    // DNAT needs a route for the first lookup. On-link via eth0, not via the host: a packet for an
    // unallocated ClusterIP then waits for an ARP answer nobody gives and dies in the node.
    { args: ['route', 'replace', plan.serviceCIDR, 'dev', NODE_UPLINK] },
  ];
}

export interface UnderlayResult extends UnderlayPlan {
  /** Things that work but less than fully (e.g. br_netfilter not loaded). */
  warnings: string[];
}

/**
 * Build (or complete) the bridge and the node namespaces; safe to run again on a half-built cluster.
 * Nodes are independent of each other, so each step runs for all of them at once.
 */
export async function createUnderlay(config: ClusterConfig, nodes: readonly string[], stateDir: string): Promise<UnderlayResult> {
  const plan = planUnderlay(config, nodes);
  recordResource(stateDir, { kind: 'link', name: plan.bridge });
  for (const n of plan.nodes) {
    recordResource(stateDir, { kind: 'netns', name: n.netns });
    recordResource(stateDir, { kind: 'link', name: n.veth });
  }
  await Promise.all(plan.nodes.map((n) => (netnsExists(n.netns) ? undefined : createNetns(n.netns))));
  await ipBatch(undefined, rootLines(plan));
  await Promise.all(plan.nodes.map((n) => Promise.all([ipBatch(n.netns, nodeLines(plan, n)), writeSysctls(n.netns, NODE_SYSCTLS)])));
  const warnings: string[] = [];
  if (!fs.existsSync('/proc/sys/net/bridge')) {
    warnings.push('br_netfilter is not loaded: traffic between Pods on one node will bypass iptables (Service DNAT); run `modprobe br_netfilter`');
  }
  return { ...plan, warnings };
}
