// status.loadBalancer.ingress for our Ingresses: the addresses the controller is reached at (the
// node addresses). Written only when it differs, never for Ingresses of another class.

import type { Client } from '../api/client.js';
import { resourceForName } from '../api/resources.js';
import type { Ingress, Node } from '../api/types.js';
import { isOurs, type ClassSelection } from './config/ingress-class.js';

export type LoadBalancerIngress = { ip?: string; hostname?: string }[];

/** Node InternalIPs (ExternalIPs when a node has no internal one), sorted and unique. */
export function nodeAddresses(nodes: readonly Node[]): string[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    const addrs = (n.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [];
    const internal = addrs.filter((a) => a.type === 'InternalIP');
    for (const a of internal.length ? internal : addrs.filter((x) => x.type === 'ExternalIP')) ips.add(a.address);
  }
  return [...ips].sort();
}

/** The status patches to send: one per owned Ingress whose status is not `addresses` yet. */
export function statusUpdates(ingresses: readonly Ingress[], classes: ClassSelection, addresses: readonly string[]): { ingress: Ingress; status: LoadBalancerIngress }[] {
  if (addresses.length === 0) return [];
  const want: LoadBalancerIngress = addresses.map((a) => (/^[\d.:a-fA-F]+$/.test(a) ? { ip: a } : { hostname: a }));
  return ingresses
    .filter((i) => isOurs(i, classes))
    .filter((i) => JSON.stringify(i.status?.loadBalancer?.ingress ?? []) !== JSON.stringify(want))
    .map((ingress) => ({ ingress, status: want }));
}

export async function writeStatus(client: Client, updates: ReturnType<typeof statusUpdates>): Promise<void> {
  const resource = resourceForName('ingresses')!;
  for (const u of updates) {
    await client.patchStatus(resource, u.ingress.metadata.namespace, u.ingress.metadata.name!, { status: { loadBalancer: { ingress: u.status } } });
  }
}
