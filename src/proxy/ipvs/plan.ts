// From what the kernel holds to what the builder wants: the IPVS operations, the kube-ipvs0
// address changes and the ipset changes of one sync. Pure, so graceful termination can be tested
// without a kernel.
//
// Graceful termination (upstream graceful_termination.go) needs no memory of its own here: a real
// server that is no longer wanted and still has connections gets weight 0 and stays; every later
// plan deletes it once its active and inactive connection counts reach 0. UDP and SCTP real servers
// are deleted at once (net/ipv4/vs/expire_nodest_conn drops their flows on the next packet). A real
// server that is wanted again while draining gets its weight back.

import { ALL_IPSETS } from './names.js';
import type { IpsetMembers, IpsetOp, IpvsOp, ServiceSpec, VirtualServer } from './state.js';
import { realServerKey, virtualServerKey } from './state.js';

function spec(vs: VirtualServer): ServiceSpec {
  const { realServers: _servers, ...rest } = vs;
  return rest;
}

function sameSpec(a: VirtualServer, b: VirtualServer): boolean {
  return a.scheduler === b.scheduler && a.persistentTimeoutSeconds === b.persistentTimeoutSeconds;
}

const gracefulTerminationNeeded = (vs: VirtualServer): boolean => vs.protocol === 'TCP';

export interface IpvsPlan {
  ops: IpvsOp[];
  /** Real servers left draining with weight 0 after these ops ("vs/rs" keys). */
  draining: string[];
}

export function planIpvs(current: readonly VirtualServer[], desired: readonly VirtualServer[]): IpvsPlan {
  const ops: IpvsOp[] = [];
  const draining: string[] = [];
  const have = new Map(current.map((vs) => [virtualServerKey(vs), vs]));
  const want = new Set(desired.map(virtualServerKey));
  for (const [key, vs] of have) if (!want.has(key)) ops.push({ op: 'delete-service', service: spec(vs) });

  for (const vs of desired) {
    const key = virtualServerKey(vs);
    const existing = have.get(key);
    if (existing === undefined) ops.push({ op: 'add-service', service: spec(vs) });
    else if (!sameSpec(existing, vs)) ops.push({ op: 'edit-service', service: spec(vs) });
    const service = spec(vs);
    const haveServers = new Map((existing?.realServers ?? []).map((rs) => [realServerKey(rs), rs]));
    const wantServers = new Set(vs.realServers.map(realServerKey));
    for (const rs of vs.realServers) {
      const found = haveServers.get(realServerKey(rs));
      if (found === undefined) ops.push({ op: 'add-server', service, server: rs });
      else if (found.weight !== rs.weight) ops.push({ op: 'edit-server', service, server: rs });
    }
    for (const [rsKey, rs] of haveServers) {
      if (wantServers.has(rsKey)) continue;
      const connections = (rs.activeConns ?? 0) + (rs.inactiveConns ?? 0);
      if (!gracefulTerminationNeeded(vs) || connections === 0) {
        ops.push({ op: 'delete-server', service, server: { address: rs.address, port: rs.port } });
        continue;
      }
      if (rs.weight !== 0) ops.push({ op: 'edit-server', service, server: { address: rs.address, port: rs.port, weight: 0 } });
      draining.push(`${key}/${rsKey}`);
    }
  }
  return { ops, draining };
}

export interface AddressPlan {
  add: string[];
  del: string[];
}

/** Addresses as "ip/prefix". */
export function planAddresses(current: readonly string[], desired: readonly string[]): AddressPlan {
  const have = new Set(current);
  const want = new Set(desired);
  return { add: desired.filter((a) => !have.has(a)), del: current.filter((a) => !want.has(a)) };
}

/** ipset save prints a host-sized net of hash:ip,port,net without its prefix. */
function normalizeMember(member: string): string {
  return member.replace(/\/(32|128)$/, '');
}

/** Creates missing sets, then adds and deletes members; sets kube-proxy does not own are left alone. */
export function planIpsets(current: ReadonlyMap<string, IpsetMembers>, desired: ReadonlyMap<string, readonly string[]>, family: 'inet' | 'inet6'): IpsetOp[] {
  const ops: IpsetOp[] = [];
  for (const info of ALL_IPSETS) {
    const want = desired.get(info.name) ?? [];
    const existing = current.get(info.name);
    if (existing === undefined) ops.push({ op: 'create', set: info.name, type: info.type, family });
    const have = new Set((existing?.members ?? []).map(normalizeMember));
    const wanted = new Set(want.map(normalizeMember));
    for (const m of want) if (!have.has(normalizeMember(m))) ops.push({ op: 'add', set: info.name, member: m });
    for (const m of existing?.members ?? []) if (!wanted.has(normalizeMember(m))) ops.push({ op: 'del', set: info.name, member: m });
  }
  return ops;
}
