// Bad input and abuse at the entrypoint: smuggling attempts, malformed and oversized requests,
// path tricks that try to dodge a more specific rule, and slow clients, each refused cleanly
// while a well-behaved client keeps being served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ingress } from '../../src/api/types.js';
import { startIngressController, type IngressController } from '../../src/ingress/main.js';
import { get, ourClass, rawExchange, service, slicesFor, startBackend, type Backend } from './ingress-harness.js';

let pub: Backend;
let secret: Backend;
let ic: IngressController;

const ing: Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'site', namespace: 'app' },
  spec: {
    rules: [
      {
        host: 'site.example',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'public', port: { number: 80 } } } },
            { path: '/secret', pathType: 'Prefix', backend: { service: { name: 'secret', port: { number: 80 } } } },
          ],
        },
      },
    ],
  },
};

beforeAll(async () => {
  [pub, secret] = await Promise.all([startBackend('public', 'pub-1'), startBackend('secret', 'sec-1')]);
  const [ps, ss] = [service('public'), service('secret')];
  ic = await startIngressController({
    source: { ingresses: [ing], ingressClasses: [ourClass('kemu', true)], services: [ps, ss], endpointSlices: [...slicesFor(ps, [pub]), ...slicesFor(ss, [secret])], secrets: [] },
    entrypoints: { web: 0, websecure: 0 },
    apiPort: 0,
    address: '127.0.0.1',
    timeouts: { headersMs: 300, requestMs: 600 },
    maxHeaderSize: 4096,
    log: { info: () => undefined, error: () => undefined },
    graceMs: 500,
  });
});

afterAll(async () => {
  await ic?.stop();
  await Promise.all([pub, secret].map((b) => b?.close()));
});

const statusLine = (raw: string): string => raw.split('\r\n')[0] ?? '';

describe('request smuggling and malformed requests', () => {
  it('refuses Content-Length together with Transfer-Encoding', async () => {
    const raw = await rawExchange(ic.ports.web, ['POST / HTTP/1.1\r\nHost: site.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /secret HTTP/1.1\r\nHost: site.example\r\n\r\n']);
    expect(statusLine(raw)).toBe('HTTP/1.1 400 Bad Request');
    // nothing was smuggled through to a backend
    expect(raw).not.toContain('"service"');
  });

  it('refuses two different Content-Length values', async () => {
    const raw = await rawExchange(ic.ports.web, ['POST / HTTP/1.1\r\nHost: site.example\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde']);
    expect(statusLine(raw)).toBe('HTTP/1.1 400 Bad Request');
  });

  it('refuses a garbage request line and a request without Host', async () => {
    expect(statusLine(await rawExchange(ic.ports.web, ['GARBAGE\r\n\r\n']))).toBe('HTTP/1.1 400 Bad Request');
    expect(statusLine(await rawExchange(ic.ports.web, ['GET / HTTP/1.1\r\n\r\n']))).toBe('HTTP/1.1 400 Bad Request');
  });

  it('refuses headers over the size limit with 431', async () => {
    const raw = await rawExchange(ic.ports.web, [`GET / HTTP/1.1\r\nHost: site.example\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`]);
    expect(statusLine(raw)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });
});

describe('path tricks are normalised before matching', () => {
  for (const path of ['/public/../secret', '/public/%2e%2e/secret', '/public/%2E%2E/secret', '//secret', '/./secret', '/%73ecret']) {
    it(`${path} reaches the /secret rule, as /secret`, async () => {
      const r = await get(ic.ports.web, path, { host: 'site.example' });
      expect(r.status).toBe(200);
      const echo = JSON.parse(r.body) as { service: string; path: string };
      expect(echo).toMatchObject({ service: 'secret', path: '/secret' });
    });
  }

  it('cannot climb above the root', async () => {
    const echo = JSON.parse((await get(ic.ports.web, '/../../etc/passwd', { host: 'site.example' })).body) as { service: string; path: string };
    expect(echo).toMatchObject({ service: 'public', path: '/etc/passwd' });
  });

  it('refuses an encoded slash and a malformed escape with 400', async () => {
    expect((await get(ic.ports.web, '/public%2F..%2Fsecret', { host: 'site.example' })).status).toBe(400);
    expect((await get(ic.ports.web, '/a%zz', { host: 'site.example' })).status).toBe(400);
  });
});

describe('slow clients', () => {
  it('a client that never finishes its headers gets 408 and is closed, others are served meanwhile', async () => {
    const t0 = Date.now();
    const slow = rawExchange(ic.ports.web, ['GET / HTTP/1.1\r\nHost: site.exa'], { waitMs: 3000 });
    const ok = await get(ic.ports.web, '/', { host: 'site.example' });
    expect(ok.status).toBe(200);
    const raw = await slow;
    expect(statusLine(raw)).toBe('HTTP/1.1 408 Request Timeout');
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('a client that stalls in the body gets 408', async () => {
    const raw = await rawExchange(ic.ports.web, ['POST / HTTP/1.1\r\nHost: site.example\r\nContent-Length: 100\r\n\r\n0123456789'], { waitMs: 3000 });
    expect(statusLine(raw)).toBe('HTTP/1.1 408 Request Timeout');
  });
});
