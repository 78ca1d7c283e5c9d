// Per-service chain names (upstream: servicePortPolicyClusterChain & co. in proxier.go). The hash
// is the first 16 characters of the RFC 4648 base32 of sha256 over the concatenated inputs, which
// keeps names at most 28 characters, the iptables limit.

import { createHash } from 'node:crypto';
import type { Protocol } from '../../api/types.js';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Every sync names every chain again; hashing them anew dominated a 10,000-Service partial sync. */
const hashCache = new Map<string, string>();
/** Bounds the cache's memory; a cluster past this many names just hashes some twice. */
const HASH_CACHE_MAX = 500_000;

/** base32(sha256(input))[:16] */
export function chainHash(input: string): string {
  let hash = hashCache.get(input);
  if (hash === undefined) {
    hash = base32(createHash('sha256').update(input).digest()).slice(0, 16);
    if (hashCache.size >= HASH_CACHE_MAX) hashCache.clear();
    hashCache.set(input, hash);
  }
  return hash;
}

export interface ServiceChainNames {
  /** KUBE-SVC-: endpoint selection for Cluster traffic policy. */
  clusterPolicy: string;
  /** KUBE-SVL-: endpoint selection for Local traffic policy. */
  localPolicy: string;
  /** KUBE-EXT-: entry for NodePort, external IP and LB IP traffic. */
  external: string;
  /** KUBE-FW-: loadBalancerSourceRanges allow-list. */
  firewall: string;
}

export function serviceChainNames(servicePortName: string, protocol: Protocol): ServiceChainNames {
  const hash = chainHash(servicePortName + protocol.toLowerCase());
  return {
    clusterPolicy: `KUBE-SVC-${hash}`,
    localPolicy: `KUBE-SVL-${hash}`,
    external: `KUBE-EXT-${hash}`,
    firewall: `KUBE-FW-${hash}`,
  };
}

/** KUBE-SEP- chain of one endpoint ("ip:port") of a service port. */
export function endpointChainName(servicePortName: string, protocol: Protocol, endpoint: string): string {
  return `KUBE-SEP-${chainHash(servicePortName + protocol.toLowerCase() + endpoint)}`;
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

/** A per-service chain kube-proxy may delete when it is no longer used. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((prefix) => chain.startsWith(prefix));
}
