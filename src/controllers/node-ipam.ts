// The node IPAM controller (kube-controller-manager's range allocator, --allocate-node-cidrs): gives
// every Node without one a spec.podCIDR/podCIDRs. A Node whose kubelet states its place in the
// cluster (kemu.io/node-index) gets the /24 of that index — control plane 10.244.0.0/24, worker
// 10.244.1.0/24, worker2 10.244.2.0/24, as on a kind cluster — whatever order the kubelets register
// in; any other Node gets the first /24 that no Node holds or is indexed for. Nothing is remembered
// but the Nodes themselves, so a restart derives the used set again, and a deleted Node's /24 is free again.

import type { ClusterConfig } from '../api/cluster.js';
import type { Client } from '../api/client.js';
import { Informer } from '../api/informer.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { Node } from '../api/types.js';
import { ControllerLoop } from './controller.js';
import { contains, formatPrefix, networkOf, parsePrefix } from '../cni/plugin/ipv4.js';

const NODES = RESOURCES.find((r) => r.kind === 'Node') as ResourceType;
/** kube-controller-manager's --node-cidr-mask-size default for IPv4. */
export const NODE_CIDR_MASK_SIZE = 24;

/** Set by the kubelet: the node's index in the cluster's node order (0 = control plane). */
export const NODE_INDEX_ANNOTATION = 'kemu.io/node-index';

/** The index a Node asks for, if it carries a valid one. */
export function nodeIndexOf(node: Node): number | undefined {
  const text = node.metadata.annotations?.[NODE_INDEX_ANNOTATION];
  return text !== undefined && /^\d{1,6}$/.test(text) ? Number(text) : undefined;
}

/** The index-th subnet of this size in clusterCIDR; undefined past its end. */
export function indexedSubnet(clusterCIDR: string, index: number, maskSize = NODE_CIDR_MASK_SIZE): string | undefined {
  const cluster = parsePrefix(clusterCIDR);
  if (cluster === undefined || maskSize < cluster.length || index >= 2 ** (maskSize - cluster.length)) return undefined;
  return formatPrefix(networkOf(cluster) + index * 2 ** (32 - maskSize), maskSize);
}

/**
 * The subnet for `node`: its indexed one when no other Node holds it, else the first free subnet
 * that is neither held nor the indexed subnet of another Node still waiting for its own.
 */
export function chooseNodeSubnet(clusterCIDR: string, node: Node, nodes: readonly Node[], pending: readonly string[]): string | undefined {
  const used = [...usedNodeSubnets(clusterCIDR, nodes), ...pending];
  const index = nodeIndexOf(node);
  const own = index !== undefined ? indexedSubnet(clusterCIDR, index) : undefined;
  // `own` is free when, as a cluster CIDR of one subnet, its first free subnet is itself
  if (own !== undefined && firstFreeSubnet(own, used) === own) return own;
  const claimed = nodes
    .filter((n) => n.metadata.name !== node.metadata.name && !n.spec?.podCIDR)
    .map((n) => nodeIndexOf(n))
    .filter((i) => i !== undefined)
    .map((i) => indexedSubnet(clusterCIDR, i))
    .filter((s) => s !== undefined);
  return firstFreeSubnet(clusterCIDR, [...used, ...claimed]);
}

/** The node subnets inside clusterCIDR that these Nodes hold. */
export function usedNodeSubnets(clusterCIDR: string, nodes: readonly Node[]): string[] {
  const cluster = parsePrefix(clusterCIDR);
  if (cluster === undefined) return [];
  const used: string[] = [];
  for (const n of nodes) {
    for (const cidr of n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])) {
      const p = parsePrefix(cidr);
      if (p !== undefined && p.length >= cluster.length && contains(cluster, networkOf(p))) used.push(formatPrefix(networkOf(p), p.length));
    }
  }
  return used;
}

/** The first subnet of this size in clusterCIDR overlapping none of `used`; undefined when full. */
export function firstFreeSubnet(clusterCIDR: string, used: readonly string[], maskSize = NODE_CIDR_MASK_SIZE): string | undefined {
  const cluster = parsePrefix(clusterCIDR);
  if (cluster === undefined) throw new Error(`clusterCIDR ${JSON.stringify(clusterCIDR)} is not an IPv4 CIDR`);
  if (maskSize < cluster.length) throw new Error(`clusterCIDR ${clusterCIDR} is smaller than one /${maskSize} node subnet`);
  const taken = used.map(parsePrefix).filter((p) => p !== undefined);
  const size = 2 ** (32 - maskSize);
  const start = networkOf(cluster);
  const count = 2 ** (maskSize - cluster.length);
  for (let i = 0; i < count; i++) {
    const candidate = { ip: start + i * size, length: maskSize };
    // two prefixes overlap when the shorter one contains the other's network address
    const overlaps = taken.some((t) => (t.length <= maskSize ? contains(t, candidate.ip) : contains(candidate, networkOf(t))));
    if (!overlaps) return formatPrefix(candidate.ip, maskSize);
  }
  return undefined;
}

export interface RunningController {
  stop(): Promise<void>;
}

export async function startNodeIpamController(
  client: Client,
  config: ClusterConfig,
  log: (message: string) => void = (m) => console.error(`node-ipam: ${m}`),
): Promise<RunningController> {
  const informer = new Informer<Node>(client, NODES);
  // Subnets handed out whose Node update the cache has not shown yet (name → cidr).
  const pending = new Map<string, string>();

  const allocate = async (name: string): Promise<void> => {
    for (const [n, cidr] of pending) {
      const seen = informer.get(undefined, n);
      if (seen === undefined || seen.spec?.podCIDR === cidr) pending.delete(n);
    }
    const node = informer.get(undefined, name);
    if (node === undefined || node.spec?.podCIDR || pending.has(name) || node.metadata.deletionTimestamp) return;
    const cidr = chooseNodeSubnet(config.clusterCIDR, node, informer.list(), [...pending.values()]);
    if (cidr === undefined) throw new Error(`CIDRNotAvailable: no remaining CIDRs left to allocate in ${config.clusterCIDR}`);
    await client.patch(NODES, undefined, name, { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    pending.set(name, cidr);
    log(`node "${name}": allocated podCIDR ${cidr}`);
  };

  // One worker: allocations never race each other.
  const loop = new ControllerLoop({
    name: 'node-ipam',
    reconcile: allocate,
    listKeys: () => informer.list().map((n) => n.metadata.name as string),
    onError: (_name, key, err) => log(`node "${key}": ${err instanceof Error ? err.message : String(err)}`),
  });
  const enqueue = (n: Node) => loop.enqueue(n.metadata.name as string);
  informer.addHandler({ onAdd: enqueue, onUpdate: (_old, n) => enqueue(n), onDelete: enqueue });
  await informer.start();
  loop.start();
  return {
    async stop() {
      await loop.stop();
      informer.stop();
    },
  };
}
