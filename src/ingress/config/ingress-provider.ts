// Traefik's kubernetes (Ingress) provider: our Ingresses -> routers, services and certificates.
// One router per rules[].http.paths[] entry, one load-balancer service per Service port.
// In 'spec' mode (default) the rules follow the Ingress API: element-wise Prefix, explicit
// priorities (host kind, then path length, then Exact > Prefix > ImplementationSpecific), and a
// defaultBackend honoured even beside rules. In 'traefik' mode they are what stock Traefik emits.

import type { EndpointSlice, HTTPIngressPath, Ingress, IngressBackend, Secret, Service } from '../../api/types.js';
import { certificateFromSecret } from './certificates.js';
import { findServicePort, serversFor } from './endpoints.js';
import { isOurs, type ClassSelection } from './ingress-class.js';
import { normalize, qualified, uniqueRouterName } from './names.js';
import type { Compat, DynamicConfig, RouterConfig, ServiceConfig, StickyCookie } from './types.js';

export const ANNOTATION_PREFIX = 'traefik.ingress.kubernetes.io/';
const MIN_INT32 = -2147483648;

export interface IngressProviderInput {
  ingresses: readonly Ingress[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  secrets: readonly Secret[];
  classes: ClassSelection;
}

export interface ProviderOptions {
  compat: Compat;
  /** entrypoints of routers that name none */
  defaultEntryPoints: string[];
  /** entrypoints that terminate TLS */
  tlsEntryPoints: string[];
}

function annotation(obj: { metadata: { annotations?: Record<string, string> } }, key: string): string | undefined {
  return obj.metadata.annotations?.[ANNOTATION_PREFIX + key];
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function hostRule(host: string): string {
  return `Host(${quote(host)})`;
}

/** The path part of a rule, or '' for none. */
function pathRule(p: HTTPIngressPath, compat: Compat, pathMatcher: string | undefined): string {
  const path = p.path ?? '';
  if (path === '') return '';
  if (p.pathType === 'Exact') return `Path(${quote(path)})`;
  if (p.pathType === 'Prefix' && compat === 'spec') {
    const trimmed = path.replace(/\/+$/, '');
    if (trimmed === '') return `PathPrefix("/")`;
    return `(Path(${quote(trimmed)}) || PathPrefix(${quote(trimmed + '/')}))`;
  }
  if (p.pathType === 'ImplementationSpecific' && pathMatcher) return `${pathMatcher}(${quote(path)})`;
  return `PathPrefix(${quote(path)})`;
}

const TYPE_RANK: Record<HTTPIngressPath['pathType'], number> = { Exact: 3, Prefix: 2, ImplementationSpecific: 1 };

/** Spec-mode priority: host kind dominates, then path length, then path type. */
export function specPriority(host: string, p: HTTPIngressPath): number {
  const hostKind = host === '' ? 0 : host.startsWith('*.') ? 1 : 2;
  const pathLen = Math.min((p.path ?? '').length, 9999);
  return 100_000 + hostKind * 100_000_000 + pathLen * 10 + TYPE_RANK[p.pathType];
}

function creationOrder(a: Ingress, b: Ingress): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);
}

function stickyFrom(svc: Service): StickyCookie | undefined {
  const on = annotation(svc, 'service.sticky.cookie');
  if (on !== 'true') return undefined;
  const get = (k: string): string | undefined => annotation(svc, `service.sticky.cookie.${k}`);
  const cookie: StickyCookie = {};
  const name = get('name');
  if (name) cookie.name = name;
  if (get('secure') === 'true') cookie.secure = true;
  if (get('httponly') === 'true') cookie.httpOnly = true;
  const sameSite = get('samesite');
  if (sameSite === 'none' || sameSite === 'lax' || sameSite === 'strict') cookie.sameSite = sameSite;
  const maxAge = get('maxage');
  if (maxAge && /^-?\d+$/.test(maxAge)) cookie.maxAge = Number(maxAge);
  const path = get('path');
  if (path) cookie.path = path;
  return cookie;
}

class Builder {
  readonly config: DynamicConfig = { routers: [], services: [], middlewares: [], certificates: [], warnings: [] };
  private readonly routerKeys = new Set<string>();
  private readonly serviceNames = new Set<string>();
  private readonly certSources = new Set<string>();

  constructor(
    private readonly input: IngressProviderInput,
    private readonly opts: ProviderOptions,
  ) {}

  /** The service for a backend (added once), or undefined when the backend cannot be a service. */
  service(ing: Ingress, backend: IngressBackend, fixedName?: string): ServiceConfig | undefined {
    const ref = `${ing.metadata.namespace}/${ing.metadata.name}`;
    if (!backend.service) {
      this.config.warnings.push(`ingress ${ref}: resource backends are not supported`);
      return undefined;
    }
    const ns = ing.metadata.namespace ?? 'default';
    const port = backend.service.port ?? {};
    const portKey = port.name ?? String(port.number ?? '');
    const name = qualified(fixedName ?? normalize(`${ns}-${backend.service.name}-${portKey}`), 'kubernetes');
    const existing = this.config.services.find((s) => s.name === name);
    if (existing) return existing;
    const svc = this.input.services.find((s) => s.metadata.namespace === ns && s.metadata.name === backend.service!.name);
    const made: ServiceConfig = { name, provider: 'kubernetes', loadBalancer: { servers: [], strategy: 'wrr', passHostHeader: true } };
    if (!svc) {
      made.error = `service ${ns}/${backend.service.name} not found`;
    } else {
      const sp = findServicePort(svc, port);
      if (!sp) made.error = `service port ${portKey} not found in service ${ns}/${backend.service.name}`;
      else {
        made.loadBalancer.servers = serversFor(svc, sp, this.input.endpointSlices);
        if (made.loadBalancer.servers.length === 0) made.error = `no endpoints found for service ${ns}/${backend.service.name}`;
      }
      if (annotation(svc, 'service.passhostheader') === 'false') made.loadBalancer.passHostHeader = false;
      const cookie = stickyFrom(svc);
      if (cookie) made.loadBalancer.sticky = { cookie };
    }
    if (made.error) this.config.warnings.push(`ingress ${ref}: ${made.error}`);
    this.serviceNames.add(name);
    this.config.services.push(made);
    return made;
  }

  router(ing: Ingress, key: string, rule: string, priority: number, service: ServiceConfig, backend: IngressBackend): void {
    const name = uniqueRouterName(key, rule, this.routerKeys);
    this.routerKeys.add(name);
    const eps = annotation(ing, 'router.entrypoints');
    const tlsOnly = annotation(ing, 'router.tls') === 'true';
    let entryPoints = eps ? eps.split(',').map((s) => s.trim()).filter(Boolean) : [...this.opts.defaultEntryPoints];
    if (tlsOnly) entryPoints = entryPoints.filter((e) => this.opts.tlsEntryPoints.includes(e));
    const mws = annotation(ing, 'router.middlewares');
    const userPriority = annotation(ing, 'router.priority');
    const r: RouterConfig = {
      name: qualified(name, 'kubernetes'),
      provider: 'kubernetes',
      entryPoints,
      rule,
      priority: userPriority && /^-?\d+$/.test(userPriority) ? Number(userPriority) : priority,
      service: service.name,
      middlewares: mws ? mws.split(',').map((m) => m.trim()).filter(Boolean).map((m) => (m.includes('@') ? m : qualified(m, 'kubernetes'))) : [],
      origin: { namespace: ing.metadata.namespace ?? '', ingress: ing.metadata.name ?? '', service: backend.service?.name ?? '', servicePort: portLabel(backend) },
    };
    if (tlsOnly) r.tls = {};
    this.config.routers.push(r);
  }

  certificates(ing: Ingress): void {
    const ns = ing.metadata.namespace ?? 'default';
    for (const t of ing.spec?.tls ?? []) {
      if (!t.secretName) continue;
      const got = certificateFromSecret(this.input.secrets, ns, t.secretName);
      if (typeof got === 'string') {
        this.config.warnings.push(`ingress ${ns}/${ing.metadata.name}: ${got}; the default certificate is served instead`);
        continue;
      }
      if (this.certSources.has(got.source)) continue;
      this.certSources.add(got.source);
      this.config.certificates.push(got);
    }
  }
}

function portLabel(b: IngressBackend): string {
  const p = b.service?.port;
  return p?.name ?? String(p?.number ?? '');
}

export function ingressConfig(input: IngressProviderInput, opts: ProviderOptions): DynamicConfig {
  const b = new Builder(input, opts);
  const ours = input.ingresses.filter((i) => isOurs(i, input.classes)).sort(creationOrder);
  let defaultFrom: Ingress | undefined;
  for (const ing of ours) {
    const ns = ing.metadata.namespace ?? 'default';
    b.certificates(ing);
    const rules = ing.spec?.rules ?? [];
    const pathMatcher = annotation(ing, 'router.pathmatcher');
    for (const rule of rules) {
      const host = rule.host ?? '';
      for (const p of rule.http?.paths ?? []) {
        const svc = b.service(ing, p.backend);
        if (!svc) continue;
        const parts = [host ? hostRule(host) : '', pathRule(p, opts.compat, pathMatcher)].filter(Boolean);
        const ruleText = parts.length ? parts.join(' && ') : 'PathPrefix("/")';
        const key = normalize(`${ns}-${ing.metadata.name}-${host}${p.path ?? ''}`);
        b.router(ing, key, ruleText, opts.compat === 'spec' ? specPriority(host, p) : 0, svc, p.backend);
      }
    }
    const db = ing.spec?.defaultBackend;
    if (!db) continue;
    // stock Traefik honours a defaultBackend only on an Ingress without rules, last writer wins
    if (opts.compat === 'traefik' && rules.length > 0) {
      b.config.warnings.push(`ingress ${ns}/${ing.metadata.name}: defaultBackend beside rules is ignored`);
      continue;
    }
    if (defaultFrom && opts.compat === 'spec') {
      b.config.warnings.push(`ingress ${ns}/${ing.metadata.name}: defaultBackend ignored, ${defaultFrom.metadata.namespace}/${defaultFrom.metadata.name} is older`);
      continue;
    }
    defaultFrom = ing;
  }
  if (defaultFrom?.spec.defaultBackend) {
    // Traefik's global names for the default backend: router default-router, service default-backend
    const svc = b.service(defaultFrom, defaultFrom.spec.defaultBackend, 'default-backend');
    if (svc) b.router(defaultFrom, 'default-router', 'PathPrefix("/")', opts.compat === 'spec' ? MIN_INT32 + 1 : MIN_INT32, svc, defaultFrom.spec.defaultBackend);
  }
  return b.config;
}
