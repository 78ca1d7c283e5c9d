// Endpoints as kube-proxy sees them (upstream: pkg/proxy/endpoint.go, endpointslicecache.go): the
// EndpointSlices of one Service merged per service port, one entry per distinct "ip:port", sorted
// by that string.

import { canonicalIP, joinHostPort, parseIP, type IPFamily } from '../api/ip.js';
import type { EndpointSlice, Protocol } from '../api/types.js';
import { namespacedName, servicePortKey, type NamespacedName } from './service-port.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface EndpointInfo {
  ip: string;
  port: number;
  /** "ip:port" ("[ip]:port" for IPv6): the DNAT target and the sort key. */
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this proxier's node. */
  isLocal: boolean;
}

/** The Service an EndpointSlice belongs to, or undefined when it carries no service-name label. */
export function sliceServiceName(slice: EndpointSlice): NamespacedName | undefined {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service ? namespacedName(slice.metadata.namespace, service) : undefined;
}

/**
 * Endpoints per service port key for the given slices of one Service. Slices of another address
 * family are ignored; a nil condition counts as ready/serving and not terminating.
 */
export function endpointsFromSlices(
  service: NamespacedName,
  slices: readonly EndpointSlice[],
  family: IPFamily,
  nodeName: string,
): Map<string, EndpointInfo[]> {
  const byPort = new Map<string, Map<string, EndpointInfo>>();
  const ordered = [...slices].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const slice of ordered) {
    if (slice.addressType !== family) continue;
    for (const port of slice.ports ?? []) {
      if (port.port === undefined) continue;
      const protocol: Protocol = port.protocol ?? 'TCP';
      const key = servicePortKey({ namespacedName: service, port: port.name ?? '', protocol });
      let set = byPort.get(key);
      if (set === undefined) byPort.set(key, (set = new Map()));
      for (const ep of slice.endpoints ?? []) {
        const address = ep.addresses?.[0];
        if (address === undefined || parseIP(address)?.family !== family) continue;
        const ip = canonicalIP(address)!;
        const endpoint = joinHostPort(ip, port.port);
        if (set.has(endpoint)) continue;
        const conditions = ep.conditions ?? {};
        set.set(endpoint, {
          ip,
          port: port.port,
          endpoint,
          ready: conditions.ready ?? true,
          serving: conditions.serving ?? true,
          terminating: conditions.terminating ?? false,
          isLocal: ep.nodeName !== undefined && ep.nodeName === nodeName,
        });
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, set] of byPort) {
    if (set.size === 0) continue;
    out.set(key, [...set.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0)));
  }
  return out;
}
