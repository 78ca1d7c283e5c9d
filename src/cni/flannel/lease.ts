// flannel's kube subnet manager view of a Node: the Node object IS the subnet lease. Its subnet is
// spec.podCIDR; how to reach it (public IP, backend type, VTEP MAC) is in flannel.alpha.coreos.com/
// annotations that each node's flannel writes on its own Node. Only Nodes carrying
// kube-subnet-manager=true count as leases, as in flannel.

import { createHash } from 'node:crypto';
import type { Node } from '../../api/types.js';

export type Backend = 'vxlan' | 'host-gw' | 'none';

export const ANNOTATION_PREFIX = 'flannel.alpha.coreos.com/';
export const ANNOTATIONS = {
  backendType: `${ANNOTATION_PREFIX}backend-type`,
  backendData: `${ANNOTATION_PREFIX}backend-data`,
  publicIP: `${ANNOTATION_PREFIX}public-ip`,
  kubeSubnetManager: `${ANNOTATION_PREFIX}kube-subnet-manager`,
} as const;

export const VXLAN_VNI = 1;

export interface Lease {
  node: string;
  /** The node's pod subnet, e.g. 10.244.1.0/24. */
  subnet: string;
  /** The node's underlay address: where its pods' traffic is sent. */
  publicIP: string;
  backendType: string;
  /** The MAC of the node's flannel.1 (vxlan only). */
  vtepMAC?: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** VtepMAC from a backend-data annotation ({"VNI":1,"VtepMAC":"…"}), if it holds a valid one. */
export function vtepMACOf(backendData: string | undefined): string | undefined {
  if (backendData === undefined) return undefined;
  try {
    const data = JSON.parse(backendData) as unknown;
    const mac = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).VtepMAC : undefined;
    return typeof mac === 'string' && MAC.test(mac.toLowerCase()) ? mac.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** The lease a Node advertises, or undefined while it has no podCIDR or no flannel annotations yet. */
export function leaseOf(node: Node): Lease | undefined {
  const a = node.metadata.annotations ?? {};
  const subnet = node.spec?.podCIDR;
  const name = node.metadata.name;
  const backendType = a[ANNOTATIONS.backendType];
  const publicIP = a[ANNOTATIONS.publicIP];
  if (a[ANNOTATIONS.kubeSubnetManager] !== 'true' || !subnet || !name || !backendType || !publicIP) return undefined;
  const vtepMAC = vtepMACOf(a[ANNOTATIONS.backendData]);
  return { node: name, subnet, publicIP, backendType, ...(vtepMAC ? { vtepMAC } : {}) };
}

/** The annotations this node's flannel puts on its own Node. */
export function ownAnnotations(backend: Backend, publicIP: string, vtepMAC: string | undefined): Record<string, string> {
  const backendData = backend === 'vxlan' ? JSON.stringify({ VNI: VXLAN_VNI, VtepMAC: vtepMAC }) : 'null';
  return {
    [ANNOTATIONS.backendType]: backend,
    [ANNOTATIONS.backendData]: backendData,
    [ANNOTATIONS.publicIP]: publicIP,
    [ANNOTATIONS.kubeSubnetManager]: 'true',
  };
}

/**
 * A stable VTEP MAC for a node when its Node does not remember one yet: locally administered,
 * unicast, derived from the cluster and node names, so a recreated flannel.1 keeps its MAC and peers
 * need no reprogramming.
 */
export function derivedVtepMAC(cluster: string, node: string): string {
  const bytes = createHash('sha256').update(`${cluster}/${node}/flannel.1`).digest().subarray(0, 6);
  bytes[0] = (bytes[0] & 0xfe) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
