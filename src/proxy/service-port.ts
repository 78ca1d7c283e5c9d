// The per-port view of a Service that every proxy mode programs (upstream: pkg/proxy/serviceport.go
// and servicechangetracker.go). One Service becomes one ServicePortInfo per port, keeping only the
// addresses of the proxier's IP family.

import { canonicalIP, formatCIDR, parseCIDR, parseIP, type IPFamily } from '../api/ip.js';
import type { Protocol, Service } from '../api/types.js';

/** Default ClientIP affinity timeout (3 hours), as the API server defaults it. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

/** namespace/name of a Service; the unit that change tracking marks as changed. */
export type NamespacedName = string;

export interface ServicePortName {
  namespacedName: NamespacedName;
  port: string;
  protocol: Protocol;
}

/** "ns/name:port", or "ns/name" when the port has no name — the text in comments and hashes. */
export function servicePortNameString(name: ServicePortName): string {
  return name.port === '' ? name.namespacedName : `${name.namespacedName}:${name.port}`;
}

/** Map key of a service port; unlike the display string it also carries the protocol. */
export function servicePortKey(name: ServicePortName): string {
  return `${servicePortNameString(name)}/${name.protocol}`;
}

export interface ServicePortInfo {
  name: ServicePortName;
  clusterIP: string;
  port: number;
  protocol: Protocol;
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  sessionAffinityClientIP: boolean;
  stickyMaxAgeSeconds: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  healthCheckNodePort: number;
}

export function namespacedName(namespace: string | undefined, name: string | undefined): NamespacedName {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/** "Externally accessible" in upstream's sense: it has a NodePort, an external IP or an LB IP. */
export function externallyAccessible(info: ServicePortInfo): boolean {
  return info.nodePort !== 0 || info.externalIPs.length > 0 || info.loadBalancerVIPs.length > 0;
}

export function usesClusterEndpoints(info: ServicePortInfo): boolean {
  return !info.internalPolicyLocal || (externallyAccessible(info) && !info.externalPolicyLocal);
}

export function usesLocalEndpoints(info: ServicePortInfo): boolean {
  return info.internalPolicyLocal || (externallyAccessible(info) && info.externalPolicyLocal);
}

function ipsOfFamily(values: readonly string[] | undefined, family: IPFamily): string[] {
  const out: string[] = [];
  for (const value of values ?? []) {
    const ip = parseIP(value);
    if (ip !== undefined && ip.family === family) out.push(canonicalIP(value)!);
  }
  return out;
}

/** An LB ingress with ipMode Proxy is handled by the load balancer itself; kube-proxy skips it. */
function isVIPMode(ingress: { ip?: string; ipMode?: unknown }): boolean {
  return ingress.ipMode === undefined || ingress.ipMode === 'VIP';
}

/** Whether the Service type allows external traffic at all (apiservice.ExternallyAccessible). */
function serviceExternallyAccessible(svc: Service): boolean {
  const type = svc.spec.type ?? 'ClusterIP';
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (svc.spec.externalIPs?.length ?? 0) > 0);
}

/**
 * The service ports of one Service for one IP family, keyed by servicePortKey. Headless and
 * ExternalName Services, and Services without a ClusterIP of this family, give none.
 */
export function servicePortsFromService(svc: Service, family: IPFamily): Map<string, ServicePortInfo> {
  const out = new Map<string, ServicePortInfo>();
  const spec = svc.spec;
  if ((spec.type ?? 'ClusterIP') === 'ExternalName') return out;
  const clusterIPs = spec.clusterIPs && spec.clusterIPs.length > 0 ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (clusterIPs.length === 0 || clusterIPs[0] === 'None' || clusterIPs[0] === '') return out;
  const clusterIP = ipsOfFamily(clusterIPs, family)[0];
  if (clusterIP === undefined) return out;

  const nsName = namespacedName(svc.metadata.namespace, svc.metadata.name);
  const externalPolicyLocal = serviceExternallyAccessible(svc) && spec.externalTrafficPolicy === 'Local';
  const needsHealthCheck = (spec.type ?? 'ClusterIP') === 'LoadBalancer' && externalPolicyLocal;
  const sourceRanges: string[] = [];
  for (const text of spec.loadBalancerSourceRanges ?? []) {
    const cidr = parseCIDR(text);
    if (cidr !== undefined && cidr.family === family) sourceRanges.push(formatCIDR(cidr));
  }
  const lbVIPs = ipsOfFamily(
    (svc.status?.loadBalancer?.ingress ?? []).filter((ing) => ing.ip && isVIPMode(ing)).map((ing) => ing.ip!),
    family,
  );
  const affinity = spec.sessionAffinity === 'ClientIP';

  for (const port of spec.ports ?? []) {
    const protocol: Protocol = port.protocol ?? 'TCP';
    const name: ServicePortName = { namespacedName: nsName, port: port.name ?? '', protocol };
    out.set(servicePortKey(name), {
      name,
      clusterIP,
      port: port.port,
      protocol,
      nodePort: port.nodePort ?? 0,
      externalIPs: ipsOfFamily(spec.externalIPs, family),
      loadBalancerVIPs: lbVIPs,
      loadBalancerSourceRanges: sourceRanges,
      sessionAffinityClientIP: affinity,
      stickyMaxAgeSeconds: affinity
        ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
        : 0,
      externalPolicyLocal,
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
      healthCheckNodePort: needsHealthCheck ? (spec.healthCheckNodePort ?? 0) : 0,
    });
  }
  return out;
}
