// nftables object names (upstream: servicePortChainNameBase, servicePortEndpointChainNameBase and
// hashAndTruncate in pkg/proxy/nftables). Unlike iptables names they keep the readable base after
// an 8-character hash, and kube-proxy recognises its per-service chains by the "/" in them.

import type { Protocol } from '../../api/types.js';
import { chainHash } from '../iptables/chain-names.js';

/** nft object names may be longer than iptables', but upstream caps them at 240 characters. */
const MAX_NAME_LENGTH = 240;

function hashAndTruncate(base: string): string {
  const name = `${chainHash(base).slice(0, 8)}-${base}`;
  return name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH - 3)}...` : name;
}

export interface ServicePortRef {
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
}

/** "<ns>/<name>/<proto>/<port>": the hashed part of every per-service-port name. */
export function servicePortNameBase(sp: ServicePortRef): string {
  return `${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.portName}`;
}

/** servicePortNameBase + "__" + the endpoint IP (":" as ".", no brackets) + "/" + port. */
export function endpointNameBase(sp: ServicePortRef, ip: string, port: number): string {
  return `${servicePortNameBase(sp)}__${ip.replace(/:/g, '.')}/${port}`;
}

export interface ServiceObjectNames {
  clusterPolicy: string;
  localPolicy: string;
  external: string;
  firewall: string;
}

export function serviceObjectNames(sp: ServicePortRef): ServiceObjectNames {
  const hashed = hashAndTruncate(servicePortNameBase(sp));
  return {
    clusterPolicy: `service-${hashed}`,
    localPolicy: `local-${hashed}`,
    external: `external-${hashed}`,
    firewall: `firewall-${hashed}`,
  };
}

export function endpointObjectNames(sp: ServicePortRef, ip: string, port: number): { chain: string; affinitySet: string } {
  const hashed = hashAndTruncate(endpointNameBase(sp, ip, port));
  return { chain: `endpoint-${hashed}`, affinitySet: `affinity-${hashed}` };
}

/** A chain that belongs to one service port (and so may become stale), not a static one. */
export function isServiceChainName(chain: string): boolean {
  return chain.includes('/');
}

export const isAffinitySetName = (name: string): boolean => name.startsWith('affinity-');
