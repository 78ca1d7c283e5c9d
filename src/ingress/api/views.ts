// The runtime configuration as Traefik's API shows it: routers, services and middlewares with
// status, error, usedBy and serverStatus; the overview counts them. Pure views of a Runtime.

import type { MiddlewareConfig, RouterConfig, ServiceConfig } from '../config/types.js';
import { middlewareType } from '../middlewares/index.js';
import type { Runtime } from '../proxy/runtime.js';
import { effectivePriority } from '../router/table.js';

type View = Record<string, unknown>;

/** Traefik drops the provider suffix of a reference inside the same provider. */
function local(ref: string, provider: string): string {
  return ref.endsWith(`@${provider}`) ? ref.slice(0, -provider.length - 1) : ref;
}

export function routerView(rt: Runtime, r: RouterConfig): View {
  const error = rt.errors.get(r.name);
  return {
    entryPoints: r.entryPoints,
    ...(r.middlewares.length ? { middlewares: r.middlewares.map((m) => local(m, r.provider)) } : {}),
    service: local(r.service, r.provider),
    rule: r.rule,
    priority: effectivePriority(r),
    ...(r.tls ? { tls: r.tls } : {}),
    status: error ? 'disabled' : 'enabled',
    ...(error ? { error: [error] } : {}),
    using: r.entryPoints,
    name: r.name,
    provider: r.provider,
  };
}

export function serviceView(rt: Runtime, s: ServiceConfig): View {
  const lb = rt.balancers.get(s.name);
  const serverStatus: Record<string, string> = {};
  for (const srv of s.loadBalancer.servers) serverStatus[srv.url] = lb?.isUp(srv.url) ? 'UP' : 'DOWN';
  return {
    loadBalancer: s.loadBalancer,
    status: s.error ? 'warning' : 'enabled',
    ...(s.error ? { error: [s.error] } : {}),
    usedBy: rt.config.routers.filter((r) => r.service === s.name).map((r) => r.name).sort(),
    ...(s.loadBalancer.servers.length ? { serverStatus } : {}),
    name: s.name,
    provider: s.provider,
    type: 'loadbalancer',
  };
}

export function middlewareView(rt: Runtime, m: MiddlewareConfig): View {
  return {
    ...m.spec,
    status: 'enabled',
    usedBy: rt.config.routers.filter((r) => r.middlewares.includes(m.name)).map((r) => r.name).sort(),
    name: m.name,
    provider: m.provider,
    type: middlewareType(m),
  };
}

function counts(statuses: string[]): { total: number; warnings: number; errors: number } {
  return { total: statuses.length, warnings: statuses.filter((s) => s === 'warning').length, errors: statuses.filter((s) => s === 'disabled').length };
}

export function overview(rt: Runtime): View {
  const zero = { total: 0, warnings: 0, errors: 0 };
  const providers = [...new Set([...rt.config.routers, ...rt.config.services].map((x) => x.provider))].sort();
  return {
    http: {
      routers: counts(rt.config.routers.map((r) => String(routerView(rt, r).status))),
      services: counts(rt.config.services.map((s) => String(serviceView(rt, s).status))),
      middlewares: counts(rt.config.middlewares.map(() => 'enabled')),
    },
    tcp: { routers: zero, services: zero, middlewares: zero },
    udp: { routers: zero, services: zero },
    features: { tracing: '', metrics: 'Prometheus', accessLog: true },
    providers: providers.map((p) => ({ kubernetes: 'KubernetesIngress', kubernetescrd: 'KubernetesCRD', file: 'File', internal: 'Internal' })[p] ?? p),
  };
}
