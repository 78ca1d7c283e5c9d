// The controller on a real kemu API (in-process server on a Unix socket): it picks up objects
// through informers, routes a new Ingress within a second, and writes status only to its own.
// The API refuses loopback endpoints, so the Service has none: a routed request gets 503 (router
// found, no server), an unrouted one 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/api/http-client.js';
import { resourceForName } from '../../src/api/resources.js';
import type { Ingress, KubeObject } from '../../src/api/types.js';
import { startIngressController, type IngressController } from '../../src/ingress/main.js';
import { startTestServer, type TestServer } from './apiserver-harness.js';
import { get, ourClass, service } from './ingress-harness.js';

let api: TestServer;
let client: HttpClient;
let ic: IngressController;

const r = (word: string) => resourceForName(word)!;

function ingress(name: string, host: string, className?: string): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'app' },
    spec: { ...(className ? { ingressClassName: className } : {}), rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'echo', port: { number: 80 } } } }] } }] },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

beforeAll(async () => {
  api = await startTestServer();
  client = new HttpClient(api.target);
  await client.create(r('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } });
  await client.create(r('ingressclasses'), undefined, ourClass('kemu', true));
  await client.create(r('services'), 'app', service('echo') as KubeObject);
  await client.create(r('ingresses'), 'app', ingress('mine', 'mine.example', 'kemu'));
  await client.create(r('ingresses'), 'app', ingress('theirs', 'theirs.example', 'other'));
  ic = await startIngressController({ client, entrypoints: { web: 0, websecure: 0 }, apiPort: 0, address: '127.0.0.1', publishAddresses: ['172.30.9.2'], log: { info: () => undefined, error: () => undefined }, graceMs: 500 });
});

afterAll(async () => {
  await ic?.stop();
  client?.close();
  await api?.stop();
});

describe('on a kemu API', () => {
  it('serves its own Ingress and writes its status; the foreign one gets neither', async () => {
    const mine = await get(ic.ports.web, '/', { host: 'mine.example' });
    expect([mine.status, mine.body]).toEqual([503, 'no available server']);
    expect((await get(ic.ports.web, '/', { host: 'theirs.example' })).status).toBe(404);
    const status = await until('status of app/mine', async () => (await client.get<Ingress>(r('ingresses'), 'app', 'mine')).status?.loadBalancer?.ingress, 3000);
    expect(status).toEqual([{ ip: '172.30.9.2' }]);
    await new Promise((res) => setTimeout(res, 300));
    expect((await client.get<Ingress>(r('ingresses'), 'app', 'theirs')).status?.loadBalancer?.ingress ?? []).toEqual([]);
  });

  it('routes a newly created Ingress within a second', async () => {
    const t0 = Date.now();
    await client.create(r('ingresses'), 'app', ingress('late', 'late.example'));
    await until('late.example routed', async () => ((await get(ic.ports.web, '/', { host: 'late.example' })).status === 503 ? true : undefined), 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
