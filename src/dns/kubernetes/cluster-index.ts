// The objects a kubernetes zone answers from, reduced to what CoreDNS's object package keeps:
// Services with their ClusterIPs and ports, ready endpoint addresses per EndpointSlice, pod IPs,
// and which namespaces exist. Rebuilt from a snapshot whenever the source changes.

import type { EndpointSlice, Service } from '../../api/types.js';
import { canonicalIP } from '../wire/ip.js';
import type { ZoneObjects } from './source.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MAX_LABEL = 63;

export interface PortInfo {
  name: string;
  protocol: string;
  /** -1 is CoreDNS's sentinel for "no ports": addresses still answer, SRV skips it */
  port: number;
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  kind: 'ClusterIP' | 'Headless' | 'ExternalName';
  clusterIPs: string[];
  externalName: string;
  ports: PortInfo[];
}

export interface EndpointAddress {
  ip: string;
  /** the label this address answers under: hostname, pod name or dashed IP */
  label: string;
}

export interface SliceInfo {
  name: string;
  namespace: string;
  service: string;
  addresses: EndpointAddress[];
  ports: PortInfo[];
}

export interface ClusterIndex {
  namespaces: Set<string>;
  /** key `namespace/name` */
  services: Map<string, ServiceInfo>;
  /** key `namespace/service` */
  slices: Map<string, SliceInfo[]>;
  servicesByClusterIP: Map<string, ServiceInfo[]>;
  slicesByIP: Map<string, SliceInfo[]>;
  /** pod IP -> namespaces of pods with that IP (pods verified, autopath) */
  podsByIP: Map<string, string[]>;
}

export const serviceKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The dashed form of an IP used as a DNS label: 172-0-0-2, 5678-abcd--1, fd00--0. */
export function dashedIP(ip: string): string {
  if (!ip.includes(':')) return ip.replaceAll('.', '-');
  const d = ip.replaceAll(':', '-');
  return d.endsWith('-') ? `${d}0` : d;
}

function endpointLabel(ip: string, hostname: string | undefined, podName: string | undefined, podNames: boolean): string {
  if (hostname) return hostname;
  if (podNames && podName && podName.length <= MAX_LABEL) return podName;
  return dashedIP(ip);
}

function portsOf(ports: { name?: string; protocol?: string; port?: number }[] | undefined): PortInfo[] {
  if (!ports || ports.length === 0) return [{ name: '', protocol: '', port: -1 }];
  return ports.map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port ?? -1 }));
}

function serviceInfo(s: Service): ServiceInfo {
  const ips = s.spec.clusterIPs?.length ? s.spec.clusterIPs : s.spec.clusterIP ? [s.spec.clusterIP] : [];
  const kind = s.spec.type === 'ExternalName' ? 'ExternalName' : ips[0] === 'None' ? 'Headless' : 'ClusterIP';
  return {
    name: s.metadata.name ?? '',
    namespace: s.metadata.namespace ?? 'default',
    kind,
    clusterIPs: kind === 'ClusterIP' ? ips.map((ip) => canonicalIP(ip) ?? ip) : [],
    externalName: s.spec.externalName ?? '',
    ports: portsOf(s.spec.ports),
  };
}

function sliceInfo(s: EndpointSlice, podNames: boolean): SliceInfo | undefined {
  const service = s.metadata.labels?.[SERVICE_NAME_LABEL];
  if (!service || s.addressType === 'FQDN') return undefined;
  const addresses: EndpointAddress[] = [];
  for (const ep of s.endpoints ?? []) {
    if (ep.conditions?.ready === false) continue; // nil counts as ready
    const podName = ep.targetRef?.kind === 'Pod' ? ep.targetRef.name : undefined;
    for (const raw of ep.addresses) {
      const ip = canonicalIP(raw) ?? raw;
      addresses.push({ ip, label: endpointLabel(ip, ep.hostname, podName, podNames) });
    }
  }
  return { name: s.metadata.name ?? '', namespace: s.metadata.namespace ?? 'default', service, addresses, ports: portsOf(s.ports) };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export function buildClusterIndex(objects: ZoneObjects, opts: { endpointPodNames: boolean }): ClusterIndex {
  const index: ClusterIndex = {
    namespaces: new Set(objects.namespaces.map((n) => n.metadata.name ?? '')),
    services: new Map(),
    slices: new Map(),
    servicesByClusterIP: new Map(),
    slicesByIP: new Map(),
    podsByIP: new Map(),
  };
  for (const s of objects.services) {
    const info = serviceInfo(s);
    index.services.set(serviceKey(info.namespace, info.name), info);
    for (const ip of info.clusterIPs) push(index.servicesByClusterIP, ip, info);
  }
  for (const s of objects.endpointSlices) {
    const info = sliceInfo(s, opts.endpointPodNames);
    if (!info) continue;
    push(index.slices, serviceKey(info.namespace, info.service), info);
    for (const ip of new Set(info.addresses.map((a) => a.ip))) push(index.slicesByIP, ip, info);
  }
  for (const p of objects.pods) {
    const ips = p.status?.podIPs?.map((x) => x.ip) ?? (p.status?.podIP ? [p.status.podIP] : []);
    for (const ip of ips) push(index.podsByIP, canonicalIP(ip) ?? ip, p.metadata.namespace ?? 'default');
  }
  return index;
}
