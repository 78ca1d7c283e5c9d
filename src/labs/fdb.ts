// Reading a node's VXLAN forwarding database as `bridge fdb show dev flannel.1` prints it, and
// telling which peers it cannot reach: a peer's VTEP MAC with no entry pointing at its public IP
// means frames for that peer's Pods have nowhere to go (flannel.1 is nolearning, no default entry).

import type { Lease } from '../cni/flannel/lease.js';

export interface FdbEntry {
  mac: string;
  dst: string;
}

/** Entries with a remote destination: `<mac> dst <ip> self permanent`; local ones (no dst) are left out. */
export function parseFdb(text: string): FdbEntry[] {
  const entries: FdbEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{2}(?::[0-9a-f]{2}){5})\s.*\bdst\s+(\S+)/i.exec(line.trim());
    if (m) entries.push({ mac: m[1]!.toLowerCase(), dst: m[2]! });
  }
  return entries;
}

/** The vxlan peers of `self` whose VTEP MAC has no FDB entry pointing at their public IP. */
export function unreachablePeers(fdb: readonly FdbEntry[], leases: readonly Lease[], self: string): Lease[] {
  return leases.filter(
    (l) => l.node !== self && l.backendType === 'vxlan' && l.vtepMAC !== undefined && !fdb.some((e) => e.mac === l.vtepMAC && e.dst === l.publicIP),
  );
}
