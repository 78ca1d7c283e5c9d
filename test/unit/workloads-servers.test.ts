import os from 'node:os';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freeTcpPort, request, startWorkload, terminate, type Workload } from './workloads-harness.js';

const hostname = os.hostname();

/** Send raw bytes and collect the whole reply (the server closes after "Connection: close"). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    s.on('data', (c) => (data += c.toString()));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

describe('whoami', () => {
  let w: Workload;
  let port: number;
  beforeAll(async () => {
    port = await freeTcpPort();
    w = await startWorkload(['whoami', '--name', 'iamfoo'], /Starting up on port/, { WHOAMI_PORT_NUMBER: String(port) });
  });
  afterAll(() => terminate(w));

  it('takes its port from WHOAMI_PORT_NUMBER', () => {
    expect(w.stdout()).toContain(`Starting up on port ${port}`);
  });

  it('prints name, hostname, IPs, remote address and the request as Go writes it', async () => {
    const reply = await rawExchange(
      port,
      'GET /path?q=1 HTTP/1.1\r\nHost: example.test\r\nx-real-ip: 10.0.0.9\r\nAccept: */*\r\nConnection: close\r\n\r\n',
    );
    const [head, body] = reply.split('\r\n\r\n', 2) as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(head).toContain('Content-Type: text/plain; charset=utf-8');
    const lines = (body + reply.slice(head.length + 4 + body.length)).split('\n');
    expect(lines[0]).toBe('Name: iamfoo');
    expect(lines[1]).toBe(`Hostname: ${hostname}`);
    const firstNonIp = lines.findIndex((l, i) => i > 1 && !l.startsWith('IP: '));
    expect(lines.slice(2, firstNonIp)).toContain('IP: 127.0.0.1');
    expect(lines[firstNonIp]).toMatch(/^RemoteAddr: 127\.0\.0\.1:\d+$/);
    // No User-Agent was sent: Go's Request.Write fills in its own; the rest are sorted, canonical keys.
    expect(lines.slice(firstNonIp + 1).join('\n')).toBe(
      'GET /path?q=1 HTTP/1.1\r\nHost: example.test\r\nUser-Agent: Go-http-client/1.1\r\nAccept: */*\r\nConnection: close\r\nX-Real-Ip: 10.0.0.9\r\n\r\n',
    );
  });

  it('shows a POST body with its Content-Length first', async () => {
    const r = await request(port, '/', { method: 'POST', body: 'abc', headers: { 'User-Agent': 'ua', 'Content-Type': 'text/plain' } });
    expect(r.body).toContain('POST / HTTP/1.1\r\nHost: 127.0.0.1:' );
    expect(r.body).toMatch(/User-Agent: ua\r\nContent-Length: 3\r\nConnection: close\r\nContent-Type: text\/plain\r\n\r\nabc$/);
  });

  it('answers /api with JSON', async () => {
    const r = await request(port, '/api?x=1', { headers: { 'X-Test': 'a<b' } });
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.body).toContain('"a\\u003cb"');
    const doc = JSON.parse(r.body);
    expect(Object.keys(doc)).toEqual(['hostname', 'ip', 'headers', 'url', 'host', 'method', 'name', 'remoteAddr']);
    expect(doc).toMatchObject({ hostname, url: '/api?x=1', method: 'GET', name: 'iamfoo', headers: { 'X-Test': ['a<b'] } });
  });

  it('serves /data of the requested size and /bench', async () => {
    const data = await request(port, '/data?size=30');
    expect(data.body).toBe('|ABCDEFGHIJKLMNOPQRSTUVWXYZ-A|');
    expect((await request(port, '/data?size=2&unit=KB')).body).toHaveLength(2048);
    expect((await request(port, '/bench')).body).toBe('1');
  });

  it('answers /health with the status last POSTed to it', async () => {
    expect((await request(port, '/health')).status).toBe(200);
    expect((await request(port, '/health', { method: 'POST', body: '503' })).status).toBe(200);
    expect((await request(port, '/health')).status).toBe(503);
    expect((await request(port, '/health', { method: 'POST', body: 'x' })).status).toBe(400);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await terminate(w)).toBe(0);
  });
});

describe('nginx', () => {
  let w: Workload;
  let port: number;
  beforeAll(async () => {
    port = await freeTcpPort();
    w = await startWorkload(['nginx', `--port=${port}`], /ready for start up/);
  });
  afterAll(() => terminate(w));

  it('serves the welcome page with nginx headers', async () => {
    const r = await request(port, '/');
    expect(r.status).toBe(200);
    expect(r.headers.server).toBe('nginx/1.27.0');
    expect(r.headers['content-type']).toBe('text/html');
    expect(r.body).toContain('<title>Welcome to nginx!</title>');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
    expect(r.headers['keep-alive']).toBeUndefined();
    expect((await request(port, '/index.html?x')).status).toBe(200);
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await request(port, '/');
    const again = await request(port, '/', { headers: { 'If-None-Match': String(first.headers.etag) } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers unknown paths with its 404 page and POST with 405', async () => {
    const r = await request(port, '/missing');
    expect(r.status).toBe(404);
    expect(r.body).toBe(
      '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.0</center>\r\n</body>\r\n</html>\r\n',
    );
    const post = await request(port, '/', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.body).toContain('<title>405 Not Allowed</title>');
  });

  it('logs each request in the image\'s access-log format', async () => {
    await request(port, '/?from=log', { headers: { 'User-Agent': 'probe/1' } });
    const line = /127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/\?from=log HTTP\/1\.1" 200 615 "-" "probe\/1" "-"\n/;
    await eventually(() => line.test(w.stdout()));
    expect(w.stdout()).toMatch(line);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await terminate(w)).toBe(0);
  });
});

describe('ingress conformance echoserver', () => {
  let w: Workload;
  let port: number;
  beforeAll(async () => {
    port = await freeTcpPort();
    w = await startWorkload(['echoserver'], /Starting server, listening on port/, {
      HTTP_PORT: String(port),
      NAMESPACE: 'ingress-conformance-abcde',
      INGRESS_NAME: 'default-backend',
      SERVICE_NAME: 'echo-service',
      POD_NAME: 'default-backend-echo-service-5b7d9c8f4-q2w3e',
    });
  });
  afterAll(() => terminate(w));

  it('answers /health with 200 OK', async () => {
    const r = await request(port, '/health');
    expect([r.status, r.body]).toEqual([200, 'OK']);
  });

  it('echoes the request in the shape of the conformance example', async () => {
    const r = await request(port, '/sub-path?x=1', {
      headers: { Host: 'my-host', 'User-Agent': 'Go-http-client/1.1', 'x-forwarded-for': '10.244.0.1', 'X-REAL-IP': '10.244.0.1' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers.server).toBeUndefined();
    expect(r.body).toBe(`{
 "path": "/sub-path?x=1",
 "host": "my-host",
 "method": "GET",
 "proto": "HTTP/1.1",
 "headers": {
  "Connection": [
   "close"
  ],
  "User-Agent": [
   "Go-http-client/1.1"
  ],
  "X-Forwarded-For": [
   "10.244.0.1"
  ],
  "X-Real-Ip": [
   "10.244.0.1"
  ]
 },
 "namespace": "ingress-conformance-abcde",
 "ingress": "default-backend",
 "service": "echo-service",
 "pod": "default-backend-echo-service-5b7d9c8f4-q2w3e"
}`);
  });

  it('echoes method, HTTP/1.0 and a raw path with doubled slashes', async () => {
    const reply = await rawExchange(port, 'DELETE //a//b HTTP/1.0\r\nHost: h:8080\r\n\r\n');
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ path: '//a//b', host: 'h:8080', method: 'DELETE', proto: 'HTTP/1.0', headers: {} });
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await terminate(w)).toBe(0);
  });
});

describe('pause', () => {
  it('prints its version for -v', async () => {
    const w = await startWorkload(['pause', '-v'], /pause\.c v/);
    expect(await w.exited).toBe(0);
  });

  it('stays up silently until SIGTERM, then exits 0', async () => {
    const w = await startWorkload(['pause'], null);
    await new Promise((r) => setTimeout(r, 200));
    expect(w.child.exitCode).toBeNull();
    expect(await terminate(w)).toBe(0);
    expect(w.stderr()).toBe('Shutting down, got signal: Terminated\n');
  });
});
