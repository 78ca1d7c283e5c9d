// The controller end to end on 127.0.0.1 with in-process echo backends: routing, Traefik's
// forwarded headers, round robin per request, sticky cookies, 404/503, the API and metrics,
// reloads without dropping requests in flight, and status patches.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ingress } from '../../src/api/types.js';
import type { ClusterObjects } from '../../src/ingress/config/build.js';
import { startIngressController, type IngressController } from '../../src/ingress/main.js';
import { ourClass, get, service, slicesFor, startBackend, type Backend } from './ingress-harness.js';

let backends: Backend[];
let sticky: Backend[];
let ic: IngressController;
const access: Record<string, unknown>[] = [];

function ingress(name: string, host: string, svc: string, extra: Partial<Ingress['spec']> = {}): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'app', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }], ...extra },
  };
}

function objects(extra: Partial<ClusterObjects> = {}): ClusterObjects {
  const echo = service('echo');
  const st = service('sticky', { annotations: { 'traefik.ingress.kubernetes.io/service.sticky.cookie': 'true', 'traefik.ingress.kubernetes.io/service.sticky.cookie.name': 'lb' } });
  const empty = service('empty');
  return {
    ingresses: [ingress('ing', 'foo.example', 'echo'), ingress('st', 'sticky.example', 'sticky'), ingress('none', 'none.example', 'empty'), ingress('missing', 'missing.example', 'nope')],
    ingressClasses: [ourClass('kemu', true)],
    services: [echo, st, empty],
    endpointSlices: [...slicesFor(echo, backends), ...slicesFor(st, sticky)],
    secrets: [],
    ...extra,
  };
}

beforeAll(async () => {
  backends = await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((p) => startBackend('echo', p)));
  sticky = await Promise.all(['st-1', 'st-2'].map((p) => startBackend('sticky', p)));
  ic = await startIngressController({
    source: objects(),
    entrypoints: { web: 0, websecure: 0 },
    apiPort: 0,
    address: '127.0.0.1',
    hostname: 'ingress-pod-xyz',
    log: { info: () => undefined, error: () => undefined, access: (r) => access.push(r) },
    graceMs: 2000,
  });
});

afterAll(async () => {
  await ic?.stop();
  await Promise.all([...backends, ...sticky].map((b) => b.close()));
});

describe('proxying', () => {
  it('passes Host through, sets Traefik forwarded headers, adds Server, keeps the User-Agent', async () => {
    const r = await get(ic.ports.web, '/sub?x=1', { host: 'foo.example', 'user-agent': 'Go-http-client/1.1', 'x-forwarded-for': '6.6.6.6' });
    expect(r.status).toBe(200);
    // what default_backend.feature asserts on every response
    expect(r.headers.server).toBe('traefik-emu');
    for (const h of ['content-length', 'content-type', 'date']) expect(r.headers[h]).toBeDefined();
    const echo = JSON.parse(r.body) as { host: string; path: string; proto: string; headers: Record<string, string[]> };
    expect(echo.host).toBe('foo.example');
    expect(echo.path).toBe('/sub?x=1');
    expect(echo.proto).toBe('HTTP/1.1');
    expect(echo.headers['User-Agent']).toEqual(['Go-http-client/1.1']);
    // an untrusted client's X-Forwarded-For is dropped, then the peer is appended
    expect(echo.headers['X-Forwarded-For']).toEqual(['127.0.0.1']);
    expect(echo.headers['X-Real-Ip']).toEqual(['127.0.0.1']);
    expect(echo.headers['X-Forwarded-Host']).toEqual(['foo.example']);
    expect(echo.headers['X-Forwarded-Port']).toEqual(['80']);
    expect(echo.headers['X-Forwarded-Proto']).toEqual(['http']);
    expect(echo.headers['X-Forwarded-Server']).toEqual(['ingress-pod-xyz']);
  });

  it('balances per request across pod endpoints over one client keep-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const connectionsBefore = backends.map((b) => b.connections);
    const pods: string[] = [];
    for (let i = 0; i < 9; i++) pods.push((JSON.parse((await get(ic.ports.web, '/', { host: 'foo.example' }, agent)).body) as { pod: string }).pod);
    agent.destroy();
    const counts = Object.fromEntries(['pod-a', 'pod-b', 'pod-c'].map((p) => [p, pods.filter((x) => x === p).length]));
    expect(counts).toEqual({ 'pod-a': 3, 'pod-b': 3, 'pod-c': 3 });
    // rotation: no pod twice in a row
    expect(pods.every((p, i) => i === 0 || p !== pods[i - 1])).toBe(true);
    // upstream keep-alive pools: at most one new connection per pod for its three requests
    expect(backends.map((b, i) => b.connections - connectionsBefore[i]! <= 1)).toEqual([true, true, true]);
  });

  it('answers 404 with Traefik body for unknown hosts, 503 for a service without endpoints or a missing Service', async () => {
    const nf = await get(ic.ports.web, '/', { host: 'other.example' });
    expect([nf.status, nf.body, nf.headers['content-type']]).toEqual([404, '404 page not found\n', 'text/plain; charset=utf-8']);
    expect((await get(ic.ports.web, '/', { host: 'none.example' })).status).toBe(503);
    const missing = await get(ic.ports.web, '/', { host: 'missing.example' });
    expect([missing.status, missing.body]).toEqual([503, 'no available server']);
  });

  it('sticky cookie pins a client to one server and is issued once', async () => {
    const first = await get(ic.ports.web, '/', { host: 'sticky.example' });
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^lb=[0-9a-f]{16}; Path=\/$/);
    const pod = (JSON.parse(first.body) as { pod: string }).pod;
    const cookie = setCookie.split(';')[0]!;
    for (let i = 0; i < 4; i++) {
      const r = await get(ic.ports.web, '/', { host: 'sticky.example', cookie });
      expect((JSON.parse(r.body) as { pod: string }).pod).toBe(pod);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
  });

  it('streams response bodies as they come', async () => {
    const got = await new Promise<{ first: string; firstAt: number; endAt: number }>((resolve) => {
      const t0 = Date.now();
      http.get({ host: '127.0.0.1', port: ic.ports.web, path: '/slow', headers: { host: 'foo.example' } }, (res) => {
        let first = '';
        let firstAt = 0;
        res.on('data', (d: Buffer) => {
          if (!first) [first, firstAt] = [d.toString(), Date.now() - t0];
        });
        res.on('end', () => resolve({ first, firstAt, endAt: Date.now() - t0 }));
      });
    });
    expect(got.first).toBe('part1;');
    expect(got.endAt - got.firstAt).toBeGreaterThanOrEqual(300);
  });

  it('writes Traefik JSON access-log records', async () => {
    access.length = 0;
    await get(ic.ports.web, '/logged', { host: 'foo.example' });
    await new Promise((r) => setTimeout(r, 20));
    const rec = access.find((r) => r.RequestPath === '/logged');
    expect(rec).toMatchObject({ RequestHost: 'foo.example', RequestMethod: 'GET', DownstreamStatus: 200, OriginStatus: 200, RouterName: 'app-ing-foo-example@kubernetes', ServiceName: 'app-echo-80@kubernetes', KubernetesIngressName: 'ing', EntryPointName: 'web' });
    expect(String(rec?.ServiceURL)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('API and metrics', () => {
  it('lists routers and services with Traefik names, and answers /ping', async () => {
    const routers = JSON.parse((await get(ic.ports.api, '/api/http/routers')).body) as { name: string; rule: string; service: string; status: string }[];
    const r = routers.find((x) => x.name === 'app-ing-foo-example@kubernetes');
    expect(r).toMatchObject({ service: 'app-echo-80', rule: 'Host("foo.example") && PathPrefix("/")', status: 'enabled' });
    const svc = JSON.parse((await get(ic.ports.api, `/api/http/services/${encodeURIComponent('app-echo-80@kubernetes')}`)).body) as { serverStatus: Record<string, string>; usedBy: string[] };
    expect(Object.values(svc.serverStatus)).toEqual(['UP', 'UP', 'UP']);
    expect(svc.usedBy).toEqual(['app-ing-foo-example@kubernetes']);
    const missing = JSON.parse((await get(ic.ports.api, `/api/http/services/${encodeURIComponent('app-nope-80@kubernetes')}`)).body) as { status: string; error: string[] };
    expect(missing.status).toBe('warning');
    expect(missing.error[0]).toContain('service app/nope not found');
    const ping = await get(ic.ports.api, '/ping');
    expect([ping.status, ping.body]).toEqual([200, 'OK']);
    const ov = JSON.parse((await get(ic.ports.api, '/api/overview')).body) as { http: { routers: { total: number } } };
    expect(ov.http.routers.total).toBe(4);
  });

  it('exports traefik_* metrics with entrypoint and service labels', async () => {
    await get(ic.ports.web, '/', { host: 'foo.example' });
    const m = (await get(ic.ports.api, '/metrics')).body;
    expect(m).toMatch(/traefik_entrypoint_requests_total\{code="200",method="GET",protocol="http",entrypoint="web"\} \d+/);
    expect(m).toMatch(/traefik_entrypoint_requests_total\{code="404",method="GET",protocol="http",entrypoint="web"\} \d+/);
    expect(m).toMatch(/traefik_service_requests_total\{code="200",method="GET",protocol="http",service="app-echo-80@kubernetes"\} \d+/);
    expect(m).toMatch(/traefik_service_request_duration_seconds_bucket\{code="200",method="GET",protocol="http",service="app-echo-80@kubernetes",le="0.1"\} \d+/);
    expect(m).toMatch(/traefik_config_reloads_total \d+/);
  });
});

describe('reloads', () => {
  it('applies new objects, and a request in flight during the swap completes', async () => {
    const inflight = get(ic.ports.web, '/slow', { host: 'foo.example' });
    await new Promise((r) => setTimeout(r, 100));
    const base = objects();
    await ic.reload({ ...base, ingresses: [...base.ingresses, ingress('late', 'late.example', 'echo')] });
    expect((await get(ic.ports.web, '/', { host: 'late.example' })).status).toBe(200);
    const slow = await inflight;
    expect([slow.status, slow.body]).toEqual([200, 'part1;part2']);
    await ic.reload(base);
    expect((await get(ic.ports.web, '/', { host: 'late.example' })).status).toBe(404);
  });
});
