// What the IPVS proxier needs from the kernel side besides iptables: the IPVS table, the kube-ipvs0
// dummy device and the ipsets. src/sys/ipvs.ts implements it with ipvsadm, ip and ipset inside the
// node's namespace; IpvsModel implements it in memory for tests.

import type { IpsetMembers, IpsetOp, IpvsOp, RealServer, VirtualServer } from './state.js';
import { realServerKey, virtualServerKey } from './state.js';

export interface IpvsBackend {
  /** Virtual servers with their real servers and connection counts. */
  listVirtualServers(): Promise<VirtualServer[]>;
  /** Run the operations in order, in one program run; rejects on the first failure. */
  applyIpvs(ops: readonly IpvsOp[]): Promise<void>;
  /** Create kube-ipvs0 when missing; its addresses ("ip/prefix"). */
  ensureDummy(): Promise<string[]>;
  changeDummyAddresses(add: readonly string[], del: readonly string[]): Promise<void>;
  /** Sets named KUBE-* with their members. */
  listIpsets(): Promise<Map<string, IpsetMembers>>;
  /** One `ipset restore` run. */
  applyIpsets(ops: readonly IpsetOp[]): Promise<void>;
}

export class IpvsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpvsError';
  }
}

/** The IPVS table, dummy device and ipsets of one namespace in memory; connection counts settable. */
export class IpvsModel implements IpvsBackend {
  readonly services = new Map<string, VirtualServer>();
  readonly dummy = new Set<string>();
  readonly sets = new Map<string, IpsetMembers>();
  dummyExists = false;

  async listVirtualServers(): Promise<VirtualServer[]> {
    return structuredClone([...this.services.values()]);
  }

  async applyIpvs(ops: readonly IpvsOp[]): Promise<void> {
    for (const o of ops) {
      const key = virtualServerKey(o.service);
      const vs = this.services.get(key);
      if (o.op === 'add-service') {
        if (vs !== undefined) throw new IpvsError(`${key}: Service already exists`);
        this.services.set(key, { ...structuredClone(o.service), realServers: [] });
        continue;
      }
      if (vs === undefined) throw new IpvsError(`${key}: No such service`);
      if (o.op === 'edit-service') Object.assign(vs, structuredClone(o.service));
      else if (o.op === 'delete-service') this.services.delete(key);
      else {
        const at = vs.realServers.findIndex((rs) => realServerKey(rs) === realServerKey(o.server));
        if (o.op === 'add-server') {
          if (at >= 0) throw new IpvsError(`${key} ${realServerKey(o.server)}: Destination already exists`);
          vs.realServers.push({ ...o.server, activeConns: 0, inactiveConns: 0 });
        } else if (at < 0) {
          throw new IpvsError(`${key} ${realServerKey(o.server)}: No such destination`);
        } else if (o.op === 'edit-server') {
          vs.realServers[at]!.weight = o.server.weight;
        } else {
          vs.realServers.splice(at, 1);
        }
      }
    }
  }

  /** Test hook: the kernel's connection counts for one real server. */
  setConnections(vsKey: string, rsKey: string, active: number, inactive: number): void {
    const rs: RealServer | undefined = this.services.get(vsKey)?.realServers.find((r) => realServerKey(r) === rsKey);
    if (rs === undefined) throw new Error(`no real server ${vsKey} ${rsKey}`);
    rs.activeConns = active;
    rs.inactiveConns = inactive;
  }

  async ensureDummy(): Promise<string[]> {
    this.dummyExists = true;
    return [...this.dummy];
  }

  async changeDummyAddresses(add: readonly string[], del: readonly string[]): Promise<void> {
    for (const a of del) this.dummy.delete(a);
    for (const a of add) this.dummy.add(a);
  }

  async listIpsets(): Promise<Map<string, IpsetMembers>> {
    return structuredClone(this.sets);
  }

  async applyIpsets(ops: readonly IpsetOp[]): Promise<void> {
    for (const o of ops) {
      if (o.op === 'create') {
        if (!this.sets.has(o.set)) this.sets.set(o.set, { type: o.type, members: [] });
        continue;
      }
      const set = this.sets.get(o.set);
      if (set === undefined) throw new IpvsError(`ipset ${o.set}: The set with the given name does not exist`);
      if (o.op === 'add' && !set.members.includes(o.member)) set.members.push(o.member);
      if (o.op === 'del') set.members = set.members.filter((m) => m !== o.member);
    }
  }
}
