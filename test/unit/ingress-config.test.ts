// Providers -> dynamic configuration: class ownership, Traefik names, annotations, endpoints,
// default backends, certificates, and the status the controller writes.
import { describe, expect, it } from 'vitest';
import type { Ingress, IngressClass, Node } from '../../src/api/types.js';
import { buildDynamicConfig, type BuildOptions, type ClusterObjects } from '../../src/ingress/config/build.js';
import { isOurs, selectClasses } from '../../src/ingress/config/ingress-class.js';
import { normalize } from '../../src/ingress/config/names.js';
import { nodeAddresses, statusUpdates } from '../../src/ingress/status.js';
import { ourClass, service, slice } from './ingress-harness.js';

const opts: BuildOptions = { compat: 'spec', defaultEntryPoints: ['web', 'websecure'], tlsEntryPoints: ['websecure'] };

function ing(name: string, spec: Partial<Ingress['spec']> = {}, annotations?: Record<string, string>, created = '2026-01-01T00:00:00Z'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'app', creationTimestamp: created, ...(annotations ? { annotations } : {}) },
    spec: { rules: [{ host: 'example.com', http: { paths: [{ path: '/bar', pathType: 'Prefix', backend: { service: { name: 'whoami', port: { number: 80 } } } }] } }], ...spec },
  };
}

function objs(ingresses: Ingress[], extra: Partial<ClusterObjects> = {}): ClusterObjects {
  const svc = service('whoami');
  return { ingresses, ingressClasses: [ourClass('kemu', true)], services: [svc], endpointSlices: [slice(svc, ['10.244.1.5', '10.244.2.7'])], secrets: [], ...extra };
}

describe('ingress class ownership', () => {
  const foreign: IngressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };
  const withDefault = selectClasses([ourClass('kemu', true), foreign]);
  const noDefault = selectClasses([ourClass('kemu'), foreign]);
  it('takes its own class by field or legacy annotation, the field winning', () => {
    expect(isOurs(ing('a', { ingressClassName: 'kemu' }), noDefault)).toBe(true);
    expect(isOurs(ing('a', { ingressClassName: 'nginx' }), withDefault)).toBe(false);
    expect(isOurs(ing('a', {}, { 'kubernetes.io/ingress.class': 'kemu' }), noDefault)).toBe(true);
    expect(isOurs(ing('a', {}, { 'kubernetes.io/ingress.class': 'nginx' }), withDefault)).toBe(false);
    expect(isOurs(ing('a', { ingressClassName: 'nginx' }, { 'kubernetes.io/ingress.class': 'kemu' }), withDefault)).toBe(false);
  });
  it('takes class-less Ingresses only when its class is the default', () => {
    expect(isOurs(ing('a'), withDefault)).toBe(true);
    expect(isOurs(ing('a'), noDefault)).toBe(false);
  });
});

describe('Traefik names and rules', () => {
  it('names routers ns-ingress-host-path and services ns-service-port, with the provider suffix', () => {
    const c = buildDynamicConfig(objs([ing('myingress')]), opts);
    expect(c.routers.map((r) => [r.name, r.service, r.entryPoints])).toEqual([['app-myingress-example-com-bar@kubernetes', 'app-whoami-80@kubernetes', ['web', 'websecure']]]);
    expect(c.routers[0]!.rule).toBe('Host("example.com") && (Path("/bar") || PathPrefix("/bar/"))');
    expect(normalize('*.foo.com/a_b')).toBe('foo-com-a-b');
  });

  it('keeps both routers when two paths normalise to the same key', () => {
    const twin = ing('x', { rules: [{ host: 'h', http: { paths: ['/a-b', '/a_b'].map((path) => ({ path, pathType: 'Exact' as const, backend: { service: { name: 'whoami', port: { number: 80 } } } })) } }] });
    const names = buildDynamicConfig(objs([twin]), opts).routers.map((r) => r.name);
    expect(names[0]).toBe('app-x-h-a-b@kubernetes');
    expect(names[1]).toMatch(/^app-x-h-a-b-[0-9a-f]{10}@kubernetes$/);
  });

  it('honours router.* annotations: entrypoints, tls, priority, middlewares', () => {
    const c = buildDynamicConfig(
      objs([ing('a', {}, { 'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure', 'traefik.ingress.kubernetes.io/router.tls': 'true', 'traefik.ingress.kubernetes.io/router.priority': '42', 'traefik.ingress.kubernetes.io/router.middlewares': 'app-strip@kubernetescrd' })]),
      opts,
    );
    expect(c.routers[0]).toMatchObject({ entryPoints: ['websecure'], tls: {}, priority: 42, middlewares: ['app-strip@kubernetescrd'] });
  });

  it('spec-mode priorities: exact host > wildcard > none, then longer path, then Exact > Prefix', () => {
    const paths = (host: string, path: string, pathType: 'Exact' | 'Prefix') => ({ host, http: { paths: [{ path, pathType, backend: { service: { name: 'whoami', port: { number: 80 } } } }] } });
    const c = buildDynamicConfig(objs([ing('p', { rules: [paths('', '/long/path', 'Prefix'), paths('*.h', '/', 'Prefix'), paths('a.h', '/', 'Prefix'), paths('a.h', '/x', 'Prefix'), paths('a.h', '/x', 'Exact')] })]), opts);
    const order = [...c.routers].sort((x, y) => y.priority - x.priority).map((r) => r.rule);
    expect(order).toEqual([
      'Host("a.h") && Path("/x")',
      'Host("a.h") && (Path("/x") || PathPrefix("/x/"))',
      'Host("a.h") && PathPrefix("/")',
      'Host("*.h") && PathPrefix("/")',
      '(Path("/long/path") || PathPrefix("/long/path/"))',
    ]);
  });
});

describe('backends', () => {
  it('uses serving Pod endpoints at the slice port, fencing terminating ones, never the ClusterIP', () => {
    const svc = { ...service('whoami', { portName: 'http' }), spec: { clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
    const s = slice(svc, ['10.244.1.5', '10.244.1.6', '10.244.1.7'], { port: 8080, terminating: ['10.244.1.6'], notReady: ['10.244.1.7'] });
    const named = ing('a', { rules: [{ host: 'h', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'whoami', port: { name: 'http' } } } }] } }] });
    const c = buildDynamicConfig(objs([named], { services: [svc], endpointSlices: [s] }), opts);
    expect(c.services[0]!.name).toBe('app-whoami-http@kubernetes');
    expect(c.services[0]!.loadBalancer.servers).toEqual([{ url: 'http://10.244.1.5:8080' }, { url: 'http://10.244.1.6:8080', fenced: true }]);
  });

  it('reads sticky-cookie and passhostheader annotations from the Service', () => {
    const svc = service('whoami', { annotations: { 'traefik.ingress.kubernetes.io/service.sticky.cookie': 'true', 'traefik.ingress.kubernetes.io/service.sticky.cookie.httponly': 'true', 'traefik.ingress.kubernetes.io/service.passhostheader': 'false' } });
    const lb = buildDynamicConfig(objs([ing('a')], { services: [svc] }), opts).services[0]!.loadBalancer;
    expect([lb.sticky, lb.passHostHeader]).toEqual([{ cookie: { httpOnly: true } }, false]);
  });

  it('reports a missing Service and a missing Secret, without failing the build', () => {
    const c = buildDynamicConfig(objs([ing('a', { tls: [{ secretName: 'gone' }], rules: [{ host: 'h', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'ghost', port: { number: 80 } } } }] } }] })]), opts);
    expect(c.services[0]!.error).toBe('service app/ghost not found');
    expect(c.warnings).toEqual(['ingress app/a: secret app/gone does not exist; the default certificate is served instead', 'ingress app/a: service app/ghost not found']);
  });
});

describe('default backends', () => {
  const withDefault = (name: string, created: string, rules = true) =>
    ing(name, { defaultBackend: { service: { name: 'whoami', port: { number: 80 } } }, ...(rules ? {} : { rules: [] }) }, undefined, created);

  it('spec mode: honoured beside rules, the oldest Ingress wins', () => {
    const c = buildDynamicConfig(objs([withDefault('young', '2026-02-01T00:00:00Z'), withDefault('old', '2026-01-01T00:00:00Z')]), opts);
    const def = c.routers.find((r) => r.name === 'default-router@kubernetes');
    expect(def).toMatchObject({ rule: 'PathPrefix("/")', service: 'default-backend@kubernetes', origin: { ingress: 'old' } });
    expect(c.warnings).toContain('ingress app/young: defaultBackend ignored, app/old is older');
  });

  it('traefik mode: ignored beside rules, used at MinInt32 priority without them', () => {
    const t = { ...opts, compat: 'traefik' as const };
    expect(buildDynamicConfig(objs([withDefault('a', '2026-01-01T00:00:00Z')]), t).routers.some((r) => r.name === 'default-router@kubernetes')).toBe(false);
    const c = buildDynamicConfig(objs([withDefault('a', '2026-01-01T00:00:00Z', false)]), t);
    expect(c.routers).toMatchObject([{ name: 'default-router@kubernetes', priority: -2147483648 }]);
  });
});

describe('status', () => {
  const node = (ip: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: ip }, status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: 'n' }] } }) as Node;
  it('patches only its own Ingresses whose address differs', () => {
    const classes = selectClasses([ourClass('kemu', true)]);
    const done = { ...ing('done'), status: { loadBalancer: { ingress: [{ ip: '172.30.1.2' }, { ip: '172.30.1.3' }] } } };
    const foreign = ing('foreign', { ingressClassName: 'other' });
    const addrs = nodeAddresses([node('172.30.1.3'), node('172.30.1.2')]);
    expect(addrs).toEqual(['172.30.1.2', '172.30.1.3']);
    const updates = statusUpdates([ing('new'), done, foreign], classes, addrs);
    expect(updates.map((u) => [u.ingress.metadata.name, u.status])).toEqual([['new', [{ ip: '172.30.1.2' }, { ip: '172.30.1.3' }]]]);
  });
});
