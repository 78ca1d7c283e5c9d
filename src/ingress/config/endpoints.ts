// A Service backend -> the servers a load balancer spreads requests over: the Pod endpoints from
// the Service's EndpointSlices, never the ClusterIP. The slice port whose name equals the
// ServicePort's name carries the already resolved targetPort. Serving endpoints are used (a nil
// condition counts as serving); serving-but-terminating ones are kept as fenced servers.

import type { EndpointSlice, Service, ServicePort } from '../../api/types.js';
import type { ServerConfig } from './types.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function findServicePort(svc: Service, port: { number?: number; name?: string }): ServicePort | undefined {
  const ports = svc.spec?.ports ?? [];
  if (port.number !== undefined) return ports.find((p) => p.port === port.number);
  if (port.name !== undefined) return ports.find((p) => p.name === port.name);
  return ports.length === 1 ? ports[0] : undefined;
}

/** Whether the upstream speaks TLS (Traefik: port 443 or a port name starting with https). */
export function upstreamScheme(port: ServicePort): 'http' | 'https' {
  return port.port === 443 || (port.name ?? '').startsWith('https') ? 'https' : 'http';
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function serversFor(svc: Service, port: ServicePort, slices: readonly EndpointSlice[]): ServerConfig[] {
  const svcName = svc.metadata.name;
  const scheme = upstreamScheme(port);
  const seen = new Map<string, ServerConfig>();
  for (const slice of slices) {
    if (slice.metadata.namespace !== svc.metadata.namespace || slice.metadata.labels?.[SERVICE_NAME_LABEL] !== svcName) continue;
    if (slice.addressType === 'FQDN') continue;
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
    if (slicePort?.port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const c = ep.conditions ?? {};
      const serving = c.serving ?? c.ready ?? true;
      if (!serving) continue;
      const fenced = c.terminating === true;
      for (const address of ep.addresses) {
        const url = `${scheme}://${hostPort(address, slicePort.port)}`;
        const known = seen.get(url);
        // the same address in two slices: a non-terminating sighting wins
        if (!known || (known.fenced && !fenced)) seen.set(url, fenced ? { url, fenced: true } : { url });
      }
    }
  }
  return [...seen.values()].sort((a, b) => a.url.localeCompare(b.url));
}
