// TLS by SNI, WebSocket tunnels, a CRD middleware chain, retries on connection errors and active
// health checks, through a controller on 127.0.0.1.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ingress, Secret } from '../../src/api/types.js';
import type { IngressRoute, Middleware } from '../../src/api/traefik-types.js';
import type { DynamicConfig } from '../../src/ingress/config/types.js';
import { startIngressController, type IngressController } from '../../src/ingress/main.js';
import { generateSelfSigned } from '../../src/ingress/proxy/certificates.js';
import { get, ourClass, service, slicesFor, startBackend, type Backend } from './ingress-harness.js';

let a: Backend;
let b: Backend;
let ic: IngressController;
let deadPort: number;

function tlsSecret(name: string, cert: { certPem: string; keyPem: string }): Secret {
  return { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: 'app' }, data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') } };
}

const ing: Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'tls', namespace: 'app' },
  spec: {
    tls: [{ hosts: ['a.example'], secretName: 'cert-a' }, { hosts: ['b.example'], secretName: 'cert-b' }, { hosts: ['c.example'], secretName: 'missing' }],
    rules: ['a.example', 'b.example', 'ws.example'].map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix' as const, backend: { service: { name: 'echo', port: { number: 80 } } } }] } })),
  },
};

// htpasswd -s line for alice, as Traefik reads a Secret with one key of users
const usersSecret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'users', namespace: 'app' }, stringData: { users: 'alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n' } };
const mw = (name: string, spec: Middleware['spec']): Middleware => ({ apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name, namespace: 'app' }, spec });
const route: IngressRoute = {
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'IngressRoute',
  metadata: { name: 'api', namespace: 'app' },
  spec: {
    entryPoints: ['web'],
    routes: [{ match: 'Host(`mw.example`) && PathPrefix(`/api`)', middlewares: [{ name: 'auth' }, { name: 'strip' }, { name: 'hdr' }], services: [{ name: 'echo', port: 80 }] }],
  },
};

function fileConfig(): Partial<DynamicConfig> {
  const lb = (urls: string[], extra = {}) => ({ servers: urls.map((url) => ({ url })), strategy: 'wrr' as const, passHostHeader: true, ...extra });
  return {
    routers: [
      { name: 'retry@file', provider: 'file', entryPoints: ['web'], rule: 'Host(`retry.example`)', priority: 0, service: 'flaky@file', middlewares: ['retry3@file'] },
      { name: 'noretry@file', provider: 'file', entryPoints: ['web'], rule: 'Host(`noretry.example`)', priority: 0, service: 'flaky@file', middlewares: [] },
      { name: 'health@file', provider: 'file', entryPoints: ['web'], rule: 'Host(`health.example`)', priority: 0, service: 'checked@file', middlewares: [] },
    ],
    services: [
      { name: 'flaky@file', provider: 'file', loadBalancer: lb([`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${a.port}`]) },
      { name: 'checked@file', provider: 'file', loadBalancer: lb([`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`], { healthCheck: { path: '/health', interval: '100ms', timeout: '500ms' } }) },
    ],
    middlewares: [{ name: 'retry3@file', provider: 'file', spec: { retry: { attempts: 3, initialInterval: '10ms' } } }],
  };
}

beforeAll(async () => {
  [a, b] = await Promise.all([startBackend('echo', 'pod-a'), startBackend('echo', 'pod-b')]);
  // a port nothing listens on: bind, note, close
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const [certA, certB] = await Promise.all([generateSelfSigned('a.example', ['a.example']), generateSelfSigned('b.example', ['b.example'])]);
  const echo = service('echo');
  ic = await startIngressController({
    source: {
      ingresses: [ing],
      ingressClasses: [ourClass('kemu', true)],
      services: [echo],
      endpointSlices: slicesFor(echo, [a, b]),
      secrets: [tlsSecret('cert-a', certA), tlsSecret('cert-b', certB), usersSecret],
      ingressRoutes: [route],
      middlewares: [mw('auth', { basicAuth: { secret: 'users' } }), mw('strip', { stripPrefix: { prefixes: ['/api'] } }), mw('hdr', { headers: { customRequestHeaders: { 'X-Lab': 'kemu' }, customResponseHeaders: { 'X-Served-By': 'chain' } } })],
    },
    file: fileConfig(),
    entrypoints: { web: 0, websecure: 0 },
    apiPort: 0,
    address: '127.0.0.1',
    log: { info: () => undefined, error: () => undefined },
    graceMs: 1000,
  });
});

afterAll(async () => {
  await ic?.stop();
  await Promise.all([a, b].map((x) => x?.close()));
});

function tlsPeer(servername: string | undefined): Promise<{ cn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: ic.ports.websecure, ...(servername ? { servername } : {}), rejectUnauthorized: false }, () => {
      const cn = String(sock.getPeerCertificate().subject.CN);
      sock.write(`GET / HTTP/1.1\r\nHost: ${servername ?? 'a.example'}\r\nConnection: close\r\n\r\n`);
      let body = '';
      sock.on('data', (d: Buffer) => (body += d.toString()));
      sock.on('end', () => resolve({ cn, body }));
    });
    sock.on('error', reject);
  });
}

describe('TLS', () => {
  it('chooses the certificate by SNI and routes by Host', async () => {
    const [ra, rb] = await Promise.all([tlsPeer('a.example'), tlsPeer('b.example')]);
    expect(ra.cn).toBe('a.example');
    expect(rb.cn).toBe('b.example');
    expect(ra.body).toMatch(/^HTTP\/1\.1 200 /);
    expect(ra.body).toContain('"X-Forwarded-Proto": [\n   "https"');
    expect(ra.body).toContain('"X-Forwarded-Port": [\n   "443"');
  });

  it('serves the default certificate without SNI, for unknown names and for a missing Secret', async () => {
    for (const name of [undefined, 'unknown.example', 'c.example']) expect((await tlsPeer(name)).cn).toBe('TRAEFIK DEFAULT CERT');
  });
});

describe('WebSocket', () => {
  it('upgrades through the router and splices the tunnel both ways', async () => {
    const { headers, echoed } = await new Promise<{ headers: http.IncomingHttpHeaders; echoed: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: ic.ports.web, path: '/chat', headers: { host: 'ws.example', connection: 'Upgrade', upgrade: 'websocket' } });
      req.on('upgrade', (res, socket) => {
        socket.write('hello');
        socket.once('data', (d: Buffer) => {
          socket.destroy();
          resolve({ headers: res.headers, echoed: d.toString() });
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(echoed).toBe('echo:hello');
    expect(headers['x-seen-proto']).toBe('ws');
    expect(['pod-a', 'pod-b']).toContain(headers['x-pod']);
  });

  it('answers 404 to an upgrade that matches no router', async () => {
    const status = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: ic.ports.web, path: '/', headers: { host: 'nowhere.example', connection: 'Upgrade', upgrade: 'websocket' } });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => resolve(101));
      req.end();
    });
    expect(status).toBe(404);
  });
});

describe('middleware chain (IngressRoute + Middleware objects)', () => {
  it('BasicAuth refuses without credentials', async () => {
    const r = await get(ic.ports.web, '/api/users', { host: 'mw.example' });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Basic realm="traefik"');
  });

  it('then StripPrefix and Headers rewrite the request and the response', async () => {
    const auth = 'Basic ' + Buffer.from('alice:password').toString('base64');
    const r = await get(ic.ports.web, '/api/users?id=1', { host: 'mw.example', authorization: auth });
    expect(r.status).toBe(200);
    expect(r.headers['x-served-by']).toBe('chain');
    const echo = JSON.parse(r.body) as { path: string; headers: Record<string, string[]> };
    expect(echo.path).toBe('/users?id=1');
    expect(echo.headers['X-Forwarded-Prefix']).toEqual(['/api']);
    expect(echo.headers['X-Lab']).toEqual(['kemu']);
  });
});

describe('retries and health', () => {
  it('without Retry a dead server gives 502; with Retry every request succeeds', async () => {
    const plain = await Promise.all(Array.from({ length: 4 }, () => get(ic.ports.web, '/', { host: 'noretry.example' })));
    expect(plain.map((r) => r.status).sort()).toEqual([200, 200, 502, 502]);
    const retried: number[] = [];
    for (let i = 0; i < 4; i++) retried.push((await get(ic.ports.web, '/', { host: 'retry.example' })).status);
    expect(retried).toEqual([200, 200, 200, 200]);
    const m = (await get(ic.ports.api, '/metrics')).body;
    expect(m).toMatch(/traefik_service_retries_total\{service="flaky@file"\} [1-9]/);
  });

  it('an active health check takes a failing server out of rotation and brings it back', async () => {
    b.healthStatus = 500;
    await new Promise((r) => setTimeout(r, 350));
    const pods = await Promise.all(Array.from({ length: 4 }, async () => (JSON.parse((await get(ic.ports.web, '/', { host: 'health.example' })).body) as { pod: string }).pod));
    expect(new Set(pods)).toEqual(new Set(['pod-a']));
    const svc = JSON.parse((await get(ic.ports.api, '/api/http/services/checked%40file')).body) as { serverStatus: Record<string, string> };
    expect(svc.serverStatus[`http://127.0.0.1:${b.port}`]).toBe('DOWN');
    b.healthStatus = 200;
    await new Promise((r) => setTimeout(r, 350));
    const back = await Promise.all(Array.from({ length: 4 }, async () => (JSON.parse((await get(ic.ports.web, '/', { host: 'health.example' })).body) as { pod: string }).pod));
    expect(new Set(back)).toEqual(new Set(['pod-a', 'pod-b']));
  });
});
