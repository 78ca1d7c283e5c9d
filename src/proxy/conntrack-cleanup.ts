// Which UDP conntrack entries a sync made stale (upstream, before the netlink reconciler:
// detectStaleConntrackEntries + deleteUDPEndpointConnections). Pure: compares the service-port
// and endpoints maps before and after a successful sync.
//  - a serving endpoint that is gone: delete flows from each service IP DNATed to it;
//  - a service port that goes from no serving endpoint to some: delete every flow to its service
//    IPs and NodePort, which were created while the Service rejected traffic.

import type { IPFamily } from '../api/ip.js';
import type { ConntrackDeletion } from '../sys/conntrack.js';
import type { EndpointInfo } from './endpoints.js';
import type { ServicePortInfo } from './service-port.js';

export interface ProxyState {
  services: ReadonlyMap<string, ServicePortInfo>;
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
}

function servingIPs(endpoints: readonly EndpointInfo[] | undefined): Set<string> {
  return new Set((endpoints ?? []).filter((ep) => ep.serving).map((ep) => ep.ip));
}

function frontendIPs(info: ServicePortInfo): string[] {
  return [info.clusterIP, ...info.externalIPs, ...info.loadBalancerVIPs].filter((ip) => ip !== '');
}

export function staleUdpConntrack(before: ProxyState, after: ProxyState, family: IPFamily): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  const seen = new Set<string>();
  const add = (d: ConntrackDeletion): void => {
    const key = JSON.stringify(d);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  };
  const keys = new Set([...before.endpoints.keys(), ...after.endpoints.keys()]);
  for (const key of keys) {
    const info = after.services.get(key) ?? before.services.get(key);
    if (info === undefined || info.protocol !== 'UDP') continue;
    const old = servingIPs(before.endpoints.get(key));
    const now = servingIPs(after.endpoints.get(key));
    for (const ip of old) {
      if (now.has(ip)) continue;
      for (const serviceIP of frontendIPs(before.services.get(key) ?? info)) add({ kind: 'endpoint', family, serviceIP, endpointIP: ip });
    }
    if (old.size === 0 && now.size > 0 && after.services.has(key)) {
      for (const serviceIP of frontendIPs(info)) add({ kind: 'service-ip', family, serviceIP });
      if (info.nodePort !== 0) add({ kind: 'node-port', family, port: info.nodePort });
    }
  }
  return out;
}
