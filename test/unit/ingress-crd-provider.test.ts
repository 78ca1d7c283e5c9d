// The kubernetescrd provider: Traefik's CRD shapes (BasicAuth by Secret, int-or-string durations,
// the class annotation) turned into the dynamic configuration.
import { describe, expect, it } from 'vitest';
import type { IngressRoute, Middleware, MiddlewareSpec } from '../../src/api/traefik-types.js';
import type { Secret } from '../../src/api/types.js';
import { buildDynamicConfig, type BuildOptions, type ClusterObjects } from '../../src/ingress/config/build.js';
import { ourClass, service, slice } from './ingress-harness.js';

const opts: BuildOptions = { compat: 'spec', defaultEntryPoints: ['web'], tlsEntryPoints: ['websecure'] };
// SHA-1 of "password", base64: the {SHA} form `htpasswd -s` writes
const PASSWORD_SHA = 'W6ph5Mm5Pz8GgiULbPgzG37mj9g=';

const mw = (name: string, spec: MiddlewareSpec): Middleware => ({ apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name, namespace: 'app' }, spec });
const secret = (name: string, type: string, stringData: Record<string, string>): Secret => ({ apiVersion: 'v1', kind: 'Secret', type, metadata: { name, namespace: 'app' }, stringData });

function route(name: string, annotations?: Record<string, string>): IngressRoute {
  return {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'IngressRoute',
    metadata: { name, namespace: 'app', ...(annotations ? { annotations } : {}) },
    spec: { routes: [{ match: `Host(\`${name}.example\`)`, services: [{ name: 'whoami', port: 80, healthCheck: { interval: 5 } }] }] },
  };
}

function objs(extra: Partial<ClusterObjects>): ClusterObjects {
  const svc = service('whoami');
  return { ingresses: [], ingressClasses: [ourClass('kemu')], services: [svc], endpointSlices: [slice(svc, ['10.244.1.5'])], secrets: [], ...extra };
}

const middlewareSpec = (c: ReturnType<typeof buildDynamicConfig>, name: string) => c.middlewares.find((m) => m.name === `app-${name}@kubernetescrd`)?.spec;

describe('Middleware objects', () => {
  it('reads BasicAuth users from a basic-auth Secret (password hashed to {SHA}) or from a one-key htpasswd Secret', () => {
    const c = buildDynamicConfig(
      objs({
        middlewares: [mw('typed', { basicAuth: { secret: 'typed', realm: 'lab' } }), mw('lines', { basicAuth: { secret: 'lines' } })],
        secrets: [secret('typed', 'kubernetes.io/basic-auth', { username: 'alice', password: 'password' }), secret('lines', 'Opaque', { users: 'ann:x\n\nbob:y\n' })],
      }),
      opts,
    );
    expect(middlewareSpec(c, 'typed')?.basicAuth).toMatchObject({ users: [`alice:{SHA}${PASSWORD_SHA}`], realm: 'lab' });
    expect(middlewareSpec(c, 'lines')?.basicAuth?.users).toEqual(['ann:x', 'bob:y']);
  });

  it('leaves out, with a warning, a BasicAuth whose Secret is missing or unreadable', () => {
    const c = buildDynamicConfig(
      objs({
        middlewares: [mw('gone', { basicAuth: { secret: 'gone' } }), mw('two', { basicAuth: { secret: 'two' } }), mw('half', { basicAuth: { secret: 'half' } })],
        secrets: [secret('two', 'Opaque', { a: 'x:y', b: 'z:w' }), secret('half', 'kubernetes.io/basic-auth', { username: 'alice' })],
      }),
      opts,
    );
    expect(c.middlewares).toEqual([]);
    expect(c.warnings).toEqual([
      'middleware app/gone: secret app/gone does not exist',
      'middleware app/two: found 2 elements for secret app/two, must be single element exactly',
      'middleware app/half: secret app/half must contain both username and password',
    ]);
  });

  it('writes integer durations as seconds (Middleware and service health check)', () => {
    const c = buildDynamicConfig(objs({ middlewares: [mw('rl', { rateLimit: { average: 5, period: 2 } }), mw('rt', { retry: { attempts: 2, initialInterval: '50ms' } })], ingressRoutes: [route('hc')] }), opts);
    expect(middlewareSpec(c, 'rl')?.rateLimit).toMatchObject({ average: 5, period: '2s' });
    expect(middlewareSpec(c, 'rt')?.retry).toMatchObject({ attempts: 2, initialInterval: '50ms' });
    expect(c.services[0]?.loadBalancer.healthCheck).toEqual({ path: '/', interval: '5s' });
  });
});

describe('IngressRoute class', () => {
  it('takes routes without the kubernetes.io/ingress.class annotation or naming one of our classes, skips the others', () => {
    const c = buildDynamicConfig(
      objs({ ingressRoutes: [route('plain'), route('ours', { 'kubernetes.io/ingress.class': 'kemu' }), route('theirs', { 'kubernetes.io/ingress.class': 'nginx' })] }),
      opts,
    );
    expect(c.routers.map((r) => r.rule).sort()).toEqual(['Host(`ours.example`)', 'Host(`plain.example`)']);
  });
});
