// Traefik's kubernetescrd provider: IngressRoutes and Middlewares -> routers, services, middlewares.
// A route's services are merged into one weighted load balancer (the service weight becomes each
// of its servers' weight), which is what a TraefikService of kind weighted would give. Like
// Traefik's provider, it selects IngressRoutes by the kubernetes.io/ingress.class annotation (the
// CRD has no ingressClassName field).

import type { IngressRoute, Middleware } from '../../api/traefik-types.js';
import type { EndpointSlice, Secret, Service } from '../../api/types.js';
import { certificateFromSecret } from './certificates.js';
import { healthCheckFromCrd, middlewareSpecFromCrd, stickyCookieFromCrd } from './crd-specs.js';
import { findServicePort, serversFor } from './endpoints.js';
import { LEGACY_CLASS_ANNOTATION } from './ingress-class.js';
import { normalize, qualified, ruleHash } from './names.js';
import type { DynamicConfig, RouterConfig, ServiceConfig } from './types.js';

export interface CrdProviderInput {
  ingressRoutes: readonly IngressRoute[];
  middlewares: readonly Middleware[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  secrets: readonly Secret[];
  /** IngressRoutes whose class annotation names another class are skipped */
  ourClasses: ReadonlySet<string>;
}

/** A route's service port (number, numeric string or name) as the Service lookup takes it; none: a single-port Service's port. */
function servicePortRef(port: number | string | undefined): { number?: number; name?: string } {
  if (port === undefined) return {};
  if (typeof port === 'number') return { number: port };
  return /^\d+$/.test(port) ? { number: Number(port) } : { name: port };
}

export function crdConfig(input: CrdProviderInput, defaultEntryPoints: string[], tlsEntryPoints: string[]): DynamicConfig {
  const config: DynamicConfig = { routers: [], services: [], middlewares: [], certificates: [], warnings: [] };
  for (const m of input.middlewares) {
    const ns = m.metadata.namespace ?? 'default';
    const spec = middlewareSpecFromCrd(m.spec ?? {}, ns, input.secrets);
    if (typeof spec === 'string') config.warnings.push(`middleware ${ns}/${m.metadata.name}: ${spec}`);
    else config.middlewares.push({ name: qualified(`${ns}-${m.metadata.name}`, 'kubernetescrd'), provider: 'kubernetescrd', spec });
  }
  for (const ir of input.ingressRoutes) {
    const ns = ir.metadata.namespace ?? 'default';
    const cls = ir.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (cls && !input.ourClasses.has(cls)) continue;
    const tls = ir.spec?.tls;
    if (tls?.secretName) {
      const got = certificateFromSecret(input.secrets, ns, tls.secretName);
      if (typeof got === 'string') config.warnings.push(`ingressroute ${ns}/${ir.metadata.name}: ${got}`);
      else config.certificates.push(got);
    }
    for (const route of ir.spec?.routes ?? []) {
      const key = normalize(`${ns}-${ir.metadata.name}`) + `-${ruleHash(route.match)}`;
      const service: ServiceConfig = { name: qualified(key, 'kubernetescrd'), provider: 'kubernetescrd', loadBalancer: { servers: [], strategy: 'wrr', passHostHeader: true } };
      for (const ref of route.services ?? []) {
        const svcNs = ref.namespace ?? ns;
        const svc = input.services.find((s) => s.metadata.namespace === svcNs && s.metadata.name === ref.name);
        const sp = svc && findServicePort(svc, servicePortRef(ref.port));
        if (!svc || !sp) {
          service.error = `service ${svcNs}/${ref.name} port ${ref.port} not found`;
          config.warnings.push(`ingressroute ${ns}/${ir.metadata.name}: ${service.error}`);
          continue;
        }
        const weight = ref.weight ?? 1;
        for (const s of serversFor(svc, sp, input.endpointSlices)) service.loadBalancer.servers.push(weight === 1 ? s : { ...s, weight });
        if (ref.passHostHeader === false) service.loadBalancer.passHostHeader = false;
        if (ref.sticky?.cookie) service.loadBalancer.sticky = { cookie: stickyCookieFromCrd(ref.sticky.cookie) };
        if (ref.healthCheck) service.loadBalancer.healthCheck = healthCheckFromCrd(ref.healthCheck);
      }
      config.services.push(service);
      const router: RouterConfig = {
        name: qualified(key, 'kubernetescrd'),
        provider: 'kubernetescrd',
        entryPoints: ir.spec.entryPoints?.length ? [...ir.spec.entryPoints] : tls ? [...tlsEntryPoints] : [...defaultEntryPoints],
        rule: route.match,
        priority: route.priority ?? 0,
        service: service.name,
        middlewares: (route.middlewares ?? []).map((m) => (m.name.includes('@') ? m.name : qualified(`${m.namespace ?? ns}-${m.name}`, 'kubernetescrd'))),
      };
      if (tls) router.tls = tls.secretName ? { secretName: tls.secretName } : {};
      config.routers.push(router);
    }
  }
  return config;
}
