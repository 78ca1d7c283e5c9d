// The proxy's per-request path after its performance work: forwarded headers built in one pass,
// metrics updated through series resolved once per label set, and upstream exchanges on undici's
// dispatch interface (backpressure toward a slow client, abort when the client goes away, SSE).
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ingress } from '../../src/api/types.js';
import { startIngressController, type IngressController } from '../../src/ingress/main.js';
import { IngressMetrics } from '../../src/ingress/metrics.js';
import { forwardedHeaders, responseHeaders } from '../../src/ingress/proxy/forwarded.js';
import { cleanPath, normalizeTarget, wirePath } from '../../src/ingress/router/request-target.js';
import { get, ourClass, service, slicesFor, type Backend } from './ingress-harness.js';

describe('forwardedHeaders', () => {
  const base = { clientIp: '10.0.0.9', tls: false, serverName: 'ingress-0', trusted: false };

  it('drops hop-by-hop headers and those the Connection header names, but never the managed ones', () => {
    const out = forwardedHeaders({
      ...base,
      headers: { host: 'a.example', connection: 'keep-alive, X-Secret, X-Forwarded-Host', 'x-secret': 's', te: 'trailers', expect: '100-continue', accept: '*/*' },
    });
    expect(out).toEqual({
      host: 'a.example',
      accept: '*/*',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'a.example',
      'x-forwarded-port': '80',
      'x-forwarded-server': 'ingress-0',
      'x-real-ip': '10.0.0.9',
      'x-forwarded-for': '10.0.0.9',
    });
  });

  it('ignores forwarding headers from an untrusted client, in either spelling', () => {
    const out = forwardedHeaders({ ...base, headers: { host: 'a.example', 'x-forwarded-for': '6.6.6.6', x_forwarded_proto: 'https', 'x-forwarded-custom': '1', x_real_ip: '7.7.7.7', 'x-other': 'kept' } });
    expect(out['x-forwarded-for']).toBe('10.0.0.9');
    expect(out['x-other']).toBe('kept');
    expect(Object.keys(out).filter((k) => k.startsWith('x_') || k === 'x-forwarded-custom')).toEqual([]);
  });

  it('keeps a trusted client’s chain and appends to it', () => {
    const out = forwardedHeaders({ ...base, trusted: true, headers: { host: 'a.example', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' } });
    expect([out['x-forwarded-for'], out['x-forwarded-proto']]).toEqual(['6.6.6.6, 10.0.0.9', 'https']);
  });

  it('takes X-Forwarded-Port from the Host header, IPv6 literals included, else from the scheme', () => {
    const port = (host: string, tls = false): unknown => forwardedHeaders({ ...base, tls, headers: { host } })['x-forwarded-port'];
    expect([port('a.example:8080'), port('[::1]:8443'), port('[::1]'), port('a.example:x'), port('a.example', true)]).toEqual(['8080', '8443', '80', '80', '443']);
  });

  it('strips hop-by-hop response headers and lower-cases the rest', () => {
    expect(responseHeaders({ 'Content-Type': 'text/plain', connection: 'close, X-Hop', 'X-Hop': '1', 'Keep-Alive': 'timeout=5', 'X-Kept': '2' })).toEqual({ 'content-type': 'text/plain', 'x-kept': '2' });
  });
});

describe('request target fast path', () => {
  // paths without escapes skip the rewriting when they are already clean: the outcome must be
  // what the full decode-and-clean pipeline (cleanPath) makes of them
  const plain = ['/', '/a', '/a/', '/a/b.c', '/.a', '/..a', '/a./b', '/a../', '/.', '/..', '/a/.', '/a/..', '/./a', '/../a', '//', '/a//b', '/a/./b', '/a/../b/', '/a/b/..', '/a/...'];

  it('leaves clean plain paths alone and cleans every other one as the full pipeline does', () => {
    for (const p of plain) expect({ p, path: (normalizeTarget(`${p}?q`) as { path: string }).path }).toEqual({ p, path: cleanPath(p) });
    expect(['/a/...', '/.a', '/..a'].map((p) => (normalizeTarget(p) as { path: string }).path)).toEqual(['/a/...', '/.a', '/..a']);
  });

  it('still refuses a structure-changing escape that follows a malformed one', () => {
    expect(normalizeTarget('/%zz/%2f')).toEqual({ ok: false, reason: 'encoded character %2f is not allowed in the path' });
    expect(normalizeTarget('/%%2F')).toEqual({ ok: false, reason: 'encoded character %2F is not allowed in the path' });
    expect(normalizeTarget('/%zz/a')).toEqual({ ok: false, reason: 'invalid URL escape in the path' });
  });

  it('escapes for the wire only what may not appear in a path', () => {
    const safe = "/AZaz09-._~!$&'()*+,;=:@%41";
    expect(wirePath(safe)).toBe(safe);
    expect(wirePath('/a b/ü"<>\\^`{|}')).toBe('/a%20b/%C3%BC%22%3C%3E%5C%5E%60%7B%7C%7D');
    expect(wirePath('/x/😀')).toBe('/x/%F0%9F%98%80');
  });
});

describe('IngressMetrics', () => {
  it('counts every observation of a label set into the same series', () => {
    const m = new IngressMetrics();
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' };
    m.observe({ entryPoint: 'websecure', service: 's@k', code: 200, method: 'GET', protocol: 'http', seconds: 0.05, tls, requestBytes: 10, responseBytes: 100 });
    m.observe({ entryPoint: 'websecure', service: 's@k', code: 200, method: 'GET', protocol: 'http', seconds: 2, tls, requestBytes: 5, responseBytes: 50 });
    m.observe({ entryPoint: 'websecure', code: 404, method: 'GET', protocol: 'http', seconds: 0.01, requestBytes: 0, responseBytes: 19 });
    const text = m.render();
    const line = (prefix: string): string | undefined => text.split('\n').find((l) => l.startsWith(prefix));
    expect(line('traefik_entrypoint_requests_total{code="200",method="GET",protocol="http",entrypoint="websecure"}')).toMatch(/ 2$/);
    expect(line('traefik_entrypoint_requests_total{code="404",')).toMatch(/ 1$/);
    expect(line('traefik_service_requests_bytes_total{code="200",method="GET",protocol="http",service="s@k"}')).toMatch(/ 15$/);
    expect(line('traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="s@k",le="0.1"}')).toMatch(/ 1$/);
    expect(line('traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="s@k",le="5"}')).toMatch(/ 2$/);
    expect(line('traefik_service_request_duration_seconds_sum{code="200",method="GET",protocol="http",service="s@k"}')).toMatch(/ 2.05$/);
    expect(line('traefik_entrypoint_requests_tls_total{tls_version="TLSv1.3",tls_cipher="TLS_AES_128_GCM_SHA256",entrypoint="websecure"}')).toMatch(/ 2$/);
    expect(line('traefik_service_requests_tls_total{tls_version="TLSv1.3",tls_cipher="TLS_AES_128_GCM_SHA256",service="s@k"}')).toMatch(/ 2$/);
  });
  it('keeps requests apart that differ only in protocol, method, code or scope', () => {
    const m = new IngressMetrics();
    const base = { entryPoint: 'web', service: 's@k', code: 200, method: 'GET', protocol: 'http' as const, seconds: 0.01, requestBytes: 0, responseBytes: 1 };
    for (const o of [base, { ...base, protocol: 'websocket' as const }, { ...base, protocol: 'sse' as const }, { ...base, method: 'POST' }, { ...base, code: 201 }, { ...base, service: 't@k' }, base]) m.observe(o);
    const values = m
      .render()
      .split('\n')
      .filter((l) => l.startsWith('traefik_service_requests_total{'))
      .sort();
    expect(values).toEqual([
      'traefik_service_requests_total{code="200",method="GET",protocol="http",service="s@k"} 2',
      'traefik_service_requests_total{code="200",method="GET",protocol="http",service="t@k"} 1',
      'traefik_service_requests_total{code="200",method="GET",protocol="sse",service="s@k"} 1',
      'traefik_service_requests_total{code="200",method="GET",protocol="websocket",service="s@k"} 1',
      'traefik_service_requests_total{code="200",method="POST",protocol="http",service="s@k"} 1',
      'traefik_service_requests_total{code="201",method="GET",protocol="http",service="s@k"} 1',
    ]);
  });
});

describe('upstream exchanges', () => {
  const BIG = Buffer.alloc(4 << 20, 'abcdefghijklmnopqrstuvwxyz');
  let backend: Backend & { hangClosed: Promise<void> };
  let ic: IngressController;

  beforeAll(async () => {
    let hangClosed!: () => void;
    const closed = new Promise<void>((r) => (hangClosed = r));
    const server = http.createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
        res.end(BIG);
      } else if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: one\n\n');
      } else if (req.url === '/hang') {
        // never answers; tells when the proxy gives up on it
        res.once('close', hangClosed);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    backend = {
      pod: 'p',
      port,
      server,
      healthStatus: 200,
      connections: 0,
      hangClosed: closed,
      close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
    };
    const svc = service('hot');
    const ing: Ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'hot', namespace: 'app', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { rules: [{ host: 'hot.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'hot', port: { number: 80 } } } }] } }] },
    };
    ic = await startIngressController({
      source: { ingresses: [ing], ingressClasses: [ourClass('kemu', true)], services: [svc], endpointSlices: slicesFor(svc, [backend]), secrets: [] },
      entrypoints: { web: 0, websecure: 0 },
      apiPort: 0,
      address: '127.0.0.1',
      log: { info: () => undefined, error: () => undefined },
      graceMs: 500,
    });
  });

  afterAll(async () => {
    await ic?.stop();
    await backend?.close();
  });

  it('relays a body larger than the socket buffers intact to a client that reads late', async () => {
    const digest = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: ic.ports.web, path: '/big', headers: { host: 'hot.example' }, agent: false }, (res) => {
        res.pause();
        const hash = createHash('sha256');
        let length = 0;
        setTimeout(() => {
          res.on('data', (c: Buffer) => {
            length += c.length;
            hash.update(c);
          });
          res.on('end', () => resolve(`${length}:${hash.digest('hex')}`));
          res.resume();
        }, 300);
      }).on('error', reject);
    });
    expect(digest).toBe(`${BIG.length}:${createHash('sha256').update(BIG).digest('hex')}`);
  });

  it('aborts the upstream request when the client goes away and counts a 499', async () => {
    const req = http.get({ host: '127.0.0.1', port: ic.ports.web, path: '/hang', headers: { host: 'hot.example' }, agent: false });
    req.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    req.destroy();
    const gaveUp = await Promise.race([backend.hangClosed.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
    expect(gaveUp).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const metrics = (await get(ic.ports.api, '/metrics')).body;
    expect(metrics).toMatch(/traefik_service_requests_total\{code="499",method="GET",protocol="http",service="app-hot-80@kubernetes"\} 1/);
  });

  it('labels a Server-Sent Events answer with protocol "sse"', async () => {
    const r = await get(ic.ports.web, '/events', { host: 'hot.example' });
    expect([r.status, r.body]).toEqual([200, 'data: one\n\n']);
    const metrics = (await get(ic.ports.api, '/metrics')).body;
    expect(metrics).toMatch(/traefik_entrypoint_requests_total\{code="200",method="GET",protocol="sse",entrypoint="web"\} 1/);
  });
});
