// IPVS objects as kube-proxy sees them (upstream pkg/proxy/ipvs/util: VirtualServer, RealServer)
// and the operations that change them. The builder produces desired VirtualServers, the planner
// turns current + desired into IpvsOps, and a backend (ipvsadm, or the in-memory model) runs them.

import { joinHostPort } from '../../api/ip.js';
import type { Protocol } from '../../api/types.js';

export interface RealServer {
  address: string;
  port: number;
  weight: number;
  /** Connection counts as the kernel reports them; absent in desired state. */
  activeConns?: number;
  inactiveConns?: number;
}

export interface VirtualServer {
  address: string;
  port: number;
  protocol: Protocol;
  scheduler: string;
  /** ClientIP session affinity: the persistence timeout in seconds. */
  persistentTimeoutSeconds?: number;
  realServers: RealServer[];
}

/** A virtual server's identity, as upstream's VirtualServer.String(): "ip:port/PROTO". */
export function virtualServerKey(vs: Pick<VirtualServer, 'address' | 'port' | 'protocol'>): string {
  return `${joinHostPort(vs.address, vs.port)}/${vs.protocol}`;
}

export function realServerKey(rs: Pick<RealServer, 'address' | 'port'>): string {
  return joinHostPort(rs.address, rs.port);
}

/** The service part of an op: which virtual server, and (for add/edit) how it schedules. */
export type ServiceRef = Pick<VirtualServer, 'address' | 'port' | 'protocol'>;
export type ServiceSpec = Omit<VirtualServer, 'realServers'>;

export type IpvsOp =
  | { op: 'add-service'; service: ServiceSpec }
  | { op: 'edit-service'; service: ServiceSpec }
  | { op: 'delete-service'; service: ServiceRef }
  | { op: 'add-server'; service: ServiceRef; server: RealServer }
  | { op: 'edit-server'; service: ServiceRef; server: RealServer }
  | { op: 'delete-server'; service: ServiceRef; server: Pick<RealServer, 'address' | 'port'> };

export interface IpsetMembers {
  type: string;
  members: string[];
}

export type IpsetOp =
  | { op: 'create'; set: string; type: string; family: 'inet' | 'inet6' }
  | { op: 'add'; set: string; member: string }
  | { op: 'del'; set: string; member: string };
