// Names of everything kemu creates on the host for a cluster. Every name carries the cluster's name
// (or a hash of it when Linux's 15-character interface-name limit leaves no room), so two clusters
// never collide and `kemu down` can find a cluster's leftovers by name.

import { createHash } from 'node:crypto';
import { DEFAULT_CLUSTER_NAME } from '../../api/cluster.js';

/** Linux interface names are at most 15 characters (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

/** The interface every node sees its underlay on, as on a kind node. */
export const NODE_UPLINK = 'eth0';

export function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** kemu0 for the default cluster, kemu-<C> for others, shortened with a hash when too long. */
export function underlayBridgeName(cluster: string): string {
  if (cluster === DEFAULT_CLUSTER_NAME) return 'kemu0';
  const plain = `kemu-${cluster}`;
  if (plain.length <= IFNAME_MAX) return plain;
  // kemu- (5) + 5 chars of the name + - + 4 hash chars = 15
  return `kemu-${cluster.slice(0, 5)}-${shortHash(cluster, 4)}`;
}

/** kind's node names: <C>-control-plane, <C>-worker, <C>-worker2, ... */
export function nodeNames(cluster: string, workers: number): string[] {
  const names = [`${cluster}-control-plane`];
  for (let i = 1; i <= workers; i++) names.push(i === 1 ? `${cluster}-worker` : `${cluster}-worker${i}`);
  return names;
}

/** A node's network namespace has the node's name (node names already start with the cluster's). */
export function nodeNetnsName(node: string): string {
  return node;
}

const VETH_PREFIX = 'kv-';

/** What every root-side veth of this cluster starts with: kv- and 6 hash characters of the cluster. */
export function clusterVethPrefix(cluster: string): string {
  return `${VETH_PREFIX}${shortHash(cluster, 6)}`;
}

/** The root-namespace end of a node's underlay veth: kv-<hash6 of C><hash6 of C/node> (15 chars). */
export function nodeVethName(cluster: string, node: string): string {
  return `${clusterVethPrefix(cluster)}${shortHash(`${cluster}/${node}`, 6)}`;
}
