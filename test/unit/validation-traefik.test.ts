// Traefik's kinds: IngressRoute, Middleware and TLSOption — the CRD schema checks a real API server
// makes, plus the rules kemu moves from Traefik's log to admission (rule syntax, one middleware type).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../src/api/errors.js';
import { resourceForName } from '../../src/api/resources.js';
import { columnsFor } from '../../src/cli/printers/columns.js';
import type { IngressRoute, Middleware, MiddlewareSpec, TLSOption } from '../../src/api/traefik-types.js';
import { ApiFixture } from './support/api-fixture.js';
import { DNS1035_LABEL_MSG, errorsOf, stored } from './validation-helpers.js';

const route = (spec: Partial<IngressRoute['spec']> | Record<string, unknown>): IngressRoute => ({
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'IngressRoute',
  metadata: { name: 'app', namespace: 'default' },
  spec: { routes: [{ match: 'Host(`app.example`)', services: [{ name: 'web', port: 80 }] }], ...spec } as IngressRoute['spec'],
});

const middleware = (spec: Record<string, unknown>): Middleware => ({
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'Middleware',
  metadata: { name: 'mw', namespace: 'default' },
  spec: spec as MiddlewareSpec,
});

describe('served resources', () => {
  it('serves the kinds under traefik.io/v1alpha1 by plural, singular and plural.group', () => {
    expect(resourceForName('ingressroute')?.kind).toBe('IngressRoute');
    expect(resourceForName('middlewares.traefik.io')?.kind).toBe('Middleware');
    expect(resourceForName('tlsoption')?.namespaced).toBe(true);
  });

  it('prints NAME and AGE, as kubectl does for CRDs without printer columns', () => {
    for (const name of ['ingressroutes', 'middlewares', 'tlsoptions']) {
      expect(columnsFor(resourceForName(name)!, true).map((c) => c.header)).toEqual(['NAME', 'AGE']);
    }
  });
});

describe('router rules', () => {
  const matchErrors = (match: string) => errorsOf(route({ routes: [{ match, services: [{ name: 'web', port: 80 }] }] }));

  it('accepts the v3 matchers combined with &&, ||, ! and parentheses', () => {
    for (const rule of [
      'Host(`a.example`)',
      'Host("a.example") && PathPrefix(`/api`)',
      '(Host(`a`) || Host(`b`)) && !Method(`POST`)',
      'Header(`X-Env`, `prod`) && Query(`debug`)',
      'HostRegexp(`^[a-z]+\\.example$`) && PathRegexp(`^/v[0-9]+/`)',
    ]) {
      expect(matchErrors(rule), rule).toEqual([]);
    }
  });

  it('refuses a rule the controller cannot compile, naming the rule and the problem', () => {
    for (const [rule, problem] of [
      ['Host(`a.example`', 'error while parsing rule Host(`a.example`'],
      ['Host(`a.example`) &&& Path(`/`)', 'error while parsing rule'],
      ['Hots(`a.example`)', 'Hots'],
      ['Header(`X-Env`)', 'Header'],
      ['Path(/api)', 'error while parsing rule'],
      ['', 'empty rule'],
    ]) {
      const errs = matchErrors(rule!);
      expect(errs, rule).toHaveLength(1);
      expect(errs[0]).toContain(`spec.routes[0].match: Invalid value: ${JSON.stringify(rule)}: `);
      expect(errs[0]).toContain(problem);
    }
  });
});

describe('IngressRoute', () => {
  it('accepts a route to a Service by port number or name, and to a TraefikService without a port', () => {
    expect(errorsOf(route({}))).toEqual([]);
    expect(errorsOf(route({ routes: [{ match: 'PathPrefix(`/`)', kind: 'Rule', services: [{ name: 'web', port: 'http' }, { kind: 'TraefikService', name: 'canary' }] }] }))).toEqual([]);
  });

  it('wants spec.routes and each route its match, as the CRD requires', () => {
    const noSpec = { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'app', namespace: 'default' } } as unknown as IngressRoute;
    expect(errorsOf(noSpec)).toEqual(['spec: Required value']);
    expect(errorsOf(route({ routes: undefined, entryPoints: ['web'] }))).toEqual(['spec.routes: Required value']);
    expect(errorsOf(route({ routes: [{ services: [] }] }))).toEqual(['spec.routes[0].match: Required value']);
  });

  it('reports types and enums worded as the CRD schema validator', () => {
    expect(errorsOf(route({ routes: [{ match: 'Path(`/`)', kind: 'Regex', priority: '10' }] }))).toEqual([
      'spec.routes[0].kind: Unsupported value: "Regex": supported values: "Rule"',
      'spec.routes[0].priority: Invalid value: "string": spec.routes[0].priority in body must be of type integer: "string"',
    ]);
    expect(errorsOf(route({ entryPoints: 'web' }))).toEqual(['spec.entryPoints: Invalid value: "string": spec.entryPoints in body must be of type array: "string"']);
    expect(errorsOf(route({ routes: [{ match: 'Path(`/`)', services: [{ name: 'web', port: true }] }] }))).toEqual([
      'spec.routes[0].services[0].port: Invalid value: "boolean": spec.routes[0].services[0].port in body must be of type integer,string: "boolean"',
    ]);
    expect(errorsOf(route({ tls: { options: {} } }))).toEqual(['spec.tls.options.name: Required value']);
  });

  it('wants a Service backend to have a valid name and a port', () => {
    expect(errorsOf(route({ routes: [{ match: 'Path(`/`)', services: [{ name: 'Web' }] }] }))).toEqual([
      `spec.routes[0].services[0].name: Invalid value: "Web": ${DNS1035_LABEL_MSG}`,
      'spec.routes[0].services[0].port: Required value: a Kubernetes Service backend needs a port number or name',
    ]);
    expect(errorsOf(route({ routes: [{ match: 'Path(`/`)', services: [{ name: 'web', port: 70000 }] }] }))).toEqual([
      'spec.routes[0].services[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    expect(errorsOf(route({ routes: [{ match: 'Path(`/`)', services: [{ name: 'web', port: 'very-long-port-name' }] }] }))).toEqual([
      'spec.routes[0].services[0].port: Invalid value: "very-long-port-name": must be no more than 15 characters',
    ]);
  });

  it('runs metadata rules on update', () => {
    const old = stored(route({}));
    const renamed = { ...old, metadata: { ...old.metadata, name: 'other' } };
    expect(errorsOf(renamed, old)).toContain('metadata.name: Invalid value: "other": field is immutable');
  });
});

describe('Middleware', () => {
  it('accepts each of the ten types on its own', () => {
    const specs: Record<string, unknown>[] = [
      { stripPrefix: { prefixes: ['/api'] } },
      { addPrefix: { prefix: '/v1' } },
      { redirectScheme: { scheme: 'https', port: '8443', permanent: true } },
      { redirectRegex: { regex: '^http://(?P<host>[^/]+)/(.*)', replacement: 'https://${host}/${2}' } },
      { headers: { customRequestHeaders: { 'X-Env': 'lab', 'X-Drop': '' }, stsSeconds: 31536000, accessControlAllowMethods: ['GET'] } },
      { basicAuth: { secret: 'users', realm: 'lab' } },
      { rateLimit: { average: 100, period: '1m', burst: 50, sourceCriterion: { ipStrategy: { depth: 1 } } } },
      { retry: { attempts: 3, initialInterval: '100ms' } },
      { circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5', fallbackDuration: 10 } },
      { ipAllowList: { sourceRange: ['127.0.0.1/32', '10.244.0.0/16', '::1'] } },
    ];
    for (const spec of specs) expect(errorsOf(middleware(spec)), JSON.stringify(spec)).toEqual([]);
  });

  it('wants exactly one type', () => {
    expect(errorsOf(middleware({}))).toEqual([
      'spec: Required value: exactly one middleware type must be set: stripPrefix, addPrefix, redirectScheme, redirectRegex, headers, basicAuth, rateLimit, retry, circuitBreaker, ipAllowList',
    ]);
    expect(errorsOf(middleware({ addPrefix: { prefix: '/a' }, stripPrefix: { prefixes: ['/b'] } }))).toEqual([
      'spec: Forbidden: multi-types middleware not supported, consider declaring 2 different pieces of middleware instead (stripPrefix, addPrefix)',
    ]);
  });

  it('names a type kemu does not implement', () => {
    expect(errorsOf(middleware({ replacePath: { path: '/x' } }))[0]).toBe(
      'spec.replacePath: Unsupported value: "replacePath": supported values: "stripPrefix", "addPrefix", "redirectScheme", "redirectRegex", "headers", "basicAuth", "rateLimit", "retry", "circuitBreaker", "ipAllowList"',
    );
  });

  it('checks field types before values', () => {
    expect(errorsOf(middleware({ stripPrefix: { prefixes: '/api' } }))).toEqual([
      'spec.stripPrefix.prefixes: Invalid value: "string": spec.stripPrefix.prefixes in body must be of type array: "string"',
    ]);
    expect(errorsOf(middleware({ headers: { customResponseHeaders: { 'X-A': 1 } } }))).toEqual([
      'spec.headers.customResponseHeaders.X-A: Invalid value: "integer": spec.headers.customResponseHeaders.X-A in body must be of type string: "integer"',
    ]);
    expect(errorsOf(middleware({ rateLimit: { average: -1 } }))).toEqual([
      'spec.rateLimit.average: Invalid value: -1: spec.rateLimit.average in body should be greater than or equal to 0',
    ]);
  });

  it('refuses what Traefik could not build', () => {
    expect(errorsOf(middleware({ addPrefix: {} }))).toEqual(['spec.addPrefix.prefix: Required value: prefix cannot be empty']);
    expect(errorsOf(middleware({ redirectScheme: { permanent: true } }))).toEqual(['spec.redirectScheme.scheme: Required value: you must provide a target scheme']);
    expect(errorsOf(middleware({ redirectRegex: { regex: '([a-z', replacement: '/' } }))).toEqual([
      'spec.redirectRegex.regex: Invalid value: "([a-z": must be a valid regular expression',
    ]);
    expect(errorsOf(middleware({ retry: { attempts: 0 } }))).toEqual([
      'spec.retry.attempts: Invalid value: 0: incorrect (or empty) value for attempt; must be greater than 0',
    ]);
    expect(errorsOf(middleware({ ipAllowList: { sourceRange: [] } }))).toEqual(['spec.ipAllowList.sourceRange: Required value: sourceRange is empty']);
    expect(errorsOf(middleware({ ipAllowList: { sourceRange: ['10.0.0.0/33'] } }))[0]).toMatch(/^spec\.ipAllowList\.sourceRange\[0\]: Invalid value: "10\.0\.0\.0\/33": must be a valid CIDR/);
    expect(errorsOf(middleware({ basicAuth: { realm: 'x' } }))).toEqual(['spec.basicAuth.secret: Required value: the name of a Secret holding the users']);
    expect(errorsOf(middleware({ circuitBreaker: { responseCode: 503 } }))).toEqual(['spec.circuitBreaker.expression: Required value']);
  });
});

describe('TLSOption', () => {
  const opt = (spec: Record<string, unknown>): TLSOption => ({
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'TLSOption',
    metadata: { name: 'modern', namespace: 'default' },
    spec: spec as TLSOption['spec'],
  });

  it('accepts known TLS versions and client auth types', () => {
    expect(errorsOf(opt({ minVersion: 'VersionTLS12', sniStrict: true, clientAuth: { clientAuthType: 'RequireAndVerifyClientCert', secretNames: ['ca'] } }))).toEqual([]);
  });

  it('refuses unknown ones', () => {
    expect(errorsOf(opt({ minVersion: 'TLS1.2' }))).toEqual([
      'spec.minVersion: Unsupported value: "TLS1.2": supported values: "VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13"',
    ]);
    expect(errorsOf(opt({ clientAuth: { clientAuthType: 'Always' } }))[0]).toMatch(/^spec\.clientAuth\.clientAuthType: Unsupported value: "Always"/);
  });
});

describe('through the API server', () => {
  let api: ApiFixture;
  beforeAll(async () => {
    api = await ApiFixture.start();
  });
  afterAll(() => api.close());

  it('stores and lists IngressRoutes and Middlewares under /apis/traefik.io/v1alpha1', async () => {
    const r = resourceForName('ingressroutes')!;
    const created = await api.client.create(r, 'default', route({}));
    expect(created.metadata.uid).toBeTruthy();
    await api.client.create(resourceForName('middlewares')!, 'default', middleware({ stripPrefix: { prefixes: ['/api'] } }));
    expect((await api.client.list(r, 'default')).items.map((o) => o.metadata.name)).toEqual(['app']);
    expect(await api.client.raw('/apis/traefik.io/v1alpha1')).toMatchObject({ groupVersion: 'traefik.io/v1alpha1' });
  });

  it('refuses an invalid one with 422, naming the kind with its group', async () => {
    const err = await api.client.create(resourceForName('middlewares')!, 'default', middleware({})).catch((e: unknown) => e);
    expect(isApiError(err) && err.code).toBe(422);
    expect((err as Error).message).toMatch(/^Middleware\.traefik\.io "mw" is invalid: spec: Required value: exactly one middleware type/);
  });
});
