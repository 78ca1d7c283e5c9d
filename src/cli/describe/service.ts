// kemu describe service

import { RESOURCES } from '../../api/resources.js';
import type { EndpointSlice, KubeObject, Service, ServicePort } from '../../api/types.js';
import { formatLabels, loadBalancerAddresses } from '../printers/format.js';
import type { DescribeContext } from './context.js';
import { eventsFor, eventsSection } from './events.js';
import { DescribeWriter } from './writer.js';

const ENDPOINT_SLICES = RESOURCES.find((r) => r.plural === 'endpointslices')!;

/** `10.244.1.2:8080,10.244.2.3:8080` from the Service's slices: ready endpoints on the port's name. */
export function endpointsForPort(slices: EndpointSlice[], port: ServicePort): string {
  const out: string[] = [];
  for (const s of slices) {
    const sp = (s.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
    if (!sp) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses) out.push(`${s.addressType === 'IPv6' ? `[${a}]` : a}:${sp.port}`);
    }
  }
  return out.join(',');
}

export async function describeService(obj: KubeObject, ctx: DescribeContext): Promise<string> {
  const svc = obj as Service;
  const spec = svc.spec;
  const slices = await ctx.client.list<EndpointSlice>(ENDPOINT_SLICES, svc.metadata.namespace, { labelSelector: `kubernetes.io/service-name=${svc.metadata.name}` });
  const w = new DescribeWriter();
  w.objectHead(svc, true);
  w.line(0, 'Selector:', formatLabels(spec.selector));
  const type = spec.type ?? 'ClusterIP';
  w.line(0, 'Type:', type);
  if (spec.ipFamilyPolicy) w.line(0, 'IP Family Policy:', spec.ipFamilyPolicy);
  if (spec.ipFamilies?.length) w.line(0, 'IP Families:', spec.ipFamilies.join(','));
  w.line(0, 'IP:', spec.clusterIP ?? '');
  if (spec.clusterIPs?.length) w.line(0, 'IPs:', spec.clusterIPs.join(','));
  if (spec.externalIPs?.length) w.line(0, 'External IPs:', spec.externalIPs.join(','));
  if (spec.loadBalancerIP) w.line(0, 'IP:', spec.loadBalancerIP);
  if (type === 'ExternalName') w.line(0, 'External Name:', spec.externalName ?? '');
  const lb = loadBalancerAddresses(svc.status);
  if (lb) w.line(0, 'LoadBalancer Ingress:', lb);
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    const proto = p.protocol ?? 'TCP';
    w.line(0, 'Port:', `${name}  ${p.port}/${proto}`);
    const target = p.targetPort ?? p.port;
    w.line(0, 'TargetPort:', typeof target === 'number' ? `${target}/${proto}` : target);
    if (p.nodePort) w.line(0, 'NodePort:', `${name}  ${p.nodePort}/${proto}`);
    if (spec.selector || slices.items.length > 0) w.line(0, 'Endpoints:', endpointsForPort(slices.items, p) || '<none>');
  }
  w.line(0, 'Session Affinity:', spec.sessionAffinity ?? 'None');
  if (type === 'NodePort' || type === 'LoadBalancer') w.line(0, 'External Traffic Policy:', spec.externalTrafficPolicy ?? 'Cluster');
  if (type !== 'ExternalName') w.line(0, 'Internal Traffic Policy:', spec.internalTrafficPolicy ?? 'Cluster');
  if (spec.healthCheckNodePort) w.line(0, 'HealthCheck NodePort:', String(spec.healthCheckNodePort));
  w.raw(eventsSection(await eventsFor(ctx.client, svc), ctx.now));
  return w.toString();
}
