// kemu describe ingress

import { RESOURCES } from '../../api/resources.js';
import type { EndpointSlice, Ingress, IngressBackend, KubeObject, Service } from '../../api/types.js';
import { isApiError } from '../../api/errors.js';
import { loadBalancerAddresses } from '../printers/format.js';
import type { DescribeContext } from './context.js';
import { eventsFor, eventsSection } from './events.js';
import { endpointsForPort } from './service.js';
import { DescribeWriter } from './writer.js';

const SERVICES = RESOURCES.find((r) => r.plural === 'services')!;
const ENDPOINT_SLICES = RESOURCES.find((r) => r.plural === 'endpointslices')!;

/** `web:80 (10.244.1.2:8080)`, or with `<error: ...>` when the Service is missing, as kubectl shows. */
async function describeBackend(b: IngressBackend | undefined, namespace: string | undefined, ctx: DescribeContext): Promise<string> {
  if (!b?.service) return b?.resource ? `APIGroup: ${b.resource.apiGroup ?? ''}, Kind: ${b.resource.kind}, Name: ${b.resource.name}` : '<default>';
  const port = b.service.port?.number ?? b.service.port?.name ?? '';
  const head = `${b.service.name}:${port}`;
  let svc: Service;
  try {
    svc = await ctx.client.get<Service>(SERVICES, namespace, b.service.name);
  } catch (e) {
    if (isApiError(e) && e.code === 404) return `${head} (<error: services "${b.service.name}" not found>)`;
    throw e;
  }
  const sp = svc.spec.ports?.find((p) => p.port === b.service!.port?.number || (p.name !== undefined && p.name === b.service!.port?.name));
  if (!sp) return `${head} (<none>)`;
  const slices = await ctx.client.list<EndpointSlice>(ENDPOINT_SLICES, namespace, { labelSelector: `kubernetes.io/service-name=${svc.metadata.name}` });
  return `${head} (${endpointsForPort(slices.items, sp) || '<none>'})`;
}

export async function describeIngress(obj: KubeObject, ctx: DescribeContext): Promise<string> {
  const ing = obj as Ingress;
  const ns = ing.metadata.namespace;
  const w = new DescribeWriter();
  w.line(0, 'Name:', ing.metadata.name ?? '');
  w.map(0, 'Labels', ing.metadata.labels);
  w.line(0, 'Namespace:', ns ?? '');
  w.line(0, 'Address:', loadBalancerAddresses(ing.status));
  w.line(0, 'Ingress Class:', ing.spec.ingressClassName ?? '<none>');
  w.line(0, 'Default backend:', await describeBackend(ing.spec.defaultBackend, ns, ctx));
  if (ing.spec.tls?.length) {
    w.line(0, 'TLS:');
    for (const t of ing.spec.tls) w.line(1, `${t.secretName ?? 'SNI'} terminates ${(t.hosts ?? []).join(',')}`);
  }
  w.line(0, 'Rules:');
  w.line(1, 'Host', 'Path', 'Backends');
  w.line(1, '----', '----', '--------');
  for (const rule of ing.spec.rules ?? []) {
    w.line(1, rule.host || '*', '');
    for (const p of rule.http?.paths ?? []) w.line(1, '', p.path ?? '', await describeBackend(p.backend, ns, ctx));
  }
  w.annotations(ing);
  w.raw(eventsSection(await eventsFor(ctx.client, ing), ctx.now));
  return w.toString();
}
