// Fixtures for the ingress tests: the conformance manifests as cluster objects, with an
// EndpointSlice per Service standing in for its Deployment's ready Pods.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { echoBody } from '../../src/workloads/echoserver.js';
import { parseAllDocuments } from 'yaml';
import type { EndpointSlice, Ingress, IngressClass, KubeObject, Secret, Service } from '../../src/api/types.js';
import type { ClusterObjects } from '../../src/ingress/config/build.js';
import type { RouteRequest } from '../../src/ingress/router/matchers.js';

export const CONFORMANCE = '/work/shared/conformance/ingress';

export const ourClass = (name: string, isDefault = false): IngressClass => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller: 'kemu.io/ingress-controller' },
});

export function slice(svc: Service, ips: string[], opts: { port?: number; terminating?: string[]; notReady?: string[] } = {}): EndpointSlice {
  const port = svc.spec.ports?.[0];
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc.metadata.name}-abc`, namespace: svc.metadata.namespace, labels: { 'kubernetes.io/service-name': svc.metadata.name! } },
    addressType: 'IPv4',
    ports: [{ ...(port?.name ? { name: port.name } : {}), port: opts.port ?? 3000, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({
      addresses: [ip],
      conditions: {
        ready: !opts.notReady?.includes(ip) && !opts.terminating?.includes(ip),
        serving: !opts.notReady?.includes(ip),
        terminating: opts.terminating?.includes(ip) ?? false,
      },
    })),
  };
}

/** The objects of one feature's manifest; every Service gets `replicas` endpoints. */
export function conformanceObjects(feature: string, replicas = 1): ClusterObjects {
  const docs = parseAllDocuments(readFileSync(`${CONFORMANCE}/manifests/${feature}.yaml`, 'utf8')).map((d) => d.toJS() as KubeObject).filter(Boolean);
  const services = docs.filter((d): d is Service => d.kind === 'Service');
  let n = 0;
  return {
    ingresses: docs.filter((d): d is Ingress => d.kind === 'Ingress'),
    ingressClasses: [ourClass('kemu', true), ourClass('conformance')],
    services,
    endpointSlices: services.map((s) => slice(s, Array.from({ length: replicas }, () => `10.244.1.${++n}`))),
    secrets: docs.filter((d): d is Secret => d.kind === 'Secret'),
  };
}

export function routeRequest(host: string, path: string, extra: Partial<RouteRequest> = {}): RouteRequest {
  return { host, path, method: 'GET', header: () => undefined, query: new URLSearchParams(), clientIp: '10.0.0.1', ...extra };
}

// ---- live backends and a client for the integration tests ----------------------------------


export interface Backend {
  pod: string;
  port: number;
  server: http.Server;
  /** what /health answers */
  healthStatus: number;
  /** TCP connections accepted so far */
  connections: number;
  close(): Promise<void>;
}

/** An echo backend (the conformance echo body) that also echoes raw bytes after an upgrade. */
export async function startBackend(service: string, pod: string): Promise<Backend> {
  const b = { pod, port: 0, healthStatus: 200, connections: 0 } as Backend;
  const server = http.createServer((req, res) => {
    // answer once the whole body is in, as an application reading its input would
    req.resume();
    req.once('end', () => answer(req, res));
  });
  const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.url === '/health') {
      res.writeHead(b.healthStatus);
      res.end('OK');
      return;
    }
    if (req.url?.startsWith('/slow')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part1;');
      setTimeout(() => res.end('part2'), 400);
      return;
    }
    const body = echoBody(req, { namespace: 'app', ingress: 'ing', service, pod });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  server.on('connection', () => b.connections++);
  const tunnels = new Set<import('node:stream').Duplex>();
  server.on('upgrade', (req, socket) => {
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Pod: ${pod}\r\nX-Seen-Proto: ${String(req.headers['x-forwarded-proto'])}\r\n\r\n`);
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  b.port = (server.address() as AddressInfo).port;
  b.server = server;
  b.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
      for (const t of tunnels) t.destroy();
    });
  return b;
}

export function service(name: string, opts: { annotations?: Record<string, string>; portName?: string } = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'app', ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: { ports: [{ port: 80, ...(opts.portName ? { name: opts.portName } : {}), targetPort: 3000 }] },
  };
}

/** One EndpointSlice per backend (they differ in port, all on 127.0.0.1). */
export function slicesFor(svc: Service, backends: readonly Backend[]): EndpointSlice[] {
  return backends.map((b, i) => ({ ...slice(svc, ['127.0.0.1'], { port: b.port }), metadata: { ...slice(svc, []).metadata, name: `${svc.metadata.name}-${i}` } }));
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function get(port: number, path: string, headers: Record<string, string> = {}, agent?: http.Agent, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Raw bytes to a port; resolves with everything the server sent until it closed (or timeout). */
export function rawExchange(port: number, chunks: string[], opts: { gapMs?: number; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      const finish = (): void => {
        sock.destroy();
        resolve(got);
      };
      const timer = setTimeout(finish, opts.waitMs ?? 2000);
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(got);
      });
      sock.on('error', () => undefined);
      void (async () => {
        for (const c of chunks) {
          sock.write(c);
          if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        }
      })();
    });
  });
}
