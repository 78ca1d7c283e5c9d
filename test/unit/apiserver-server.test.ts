import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { call, CM, configMap, startTestServer, type TestServer } from './apiserver-harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('apiserver listeners', () => {
  it('makes the socket owner-only', async () => {
    t = await startTestServer();
    expect((await stat(t.target.socketPath)).mode & 0o777).toBe(0o600);
  });

  it('requires the bearer token on TCP and not on the socket', async () => {
    t = await startTestServer({ tcp: { host: '127.0.0.1', port: 0, token: 's3cret' } });
    const port = t.server.tcpPort as number;
    expect(port).toBeGreaterThan(0);
    const tcp = { host: '127.0.0.1', port };
    const none = await call(tcp, 'GET', '/api/v1/namespaces');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await call(tcp, 'GET', '/api/v1/namespaces', undefined, { Authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await call(tcp, 'GET', '/api/v1/namespaces', undefined, { Authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
    expect((await t.call('GET', '/api/v1/namespaces')).status).toBe(200);
  });
});

describe('apiserver restart', () => {
  it('keeps objects and continues resourceVersions on the same store', async () => {
    t = await startTestServer();
    const created = (await t.call('POST', CM, configMap('kept'))).body;
    const nsBefore = (await t.call('GET', '/api/v1/namespaces/default')).body;
    await t.restart();
    const got = await t.call('GET', `${CM}/kept`);
    expect(got.body).toEqual(created);
    // bootstrap does not recreate what exists
    expect((await t.call('GET', '/api/v1/namespaces/default')).body.metadata.uid).toBe(nsBefore.metadata.uid);
    const next = (await t.call('POST', CM, configMap('after'))).body;
    expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    // an allocation made before the restart is still held
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { a: 'b' }, ports: [{ port: 80, nodePort: 30100 }] } };
    expect((await t.call('POST', '/api/v1/namespaces/default/services', svc)).status).toBe(201);
    await t.restart();
    const clash = await t.call('POST', '/api/v1/namespaces/default/services', { ...svc, metadata: { name: 'np2' } });
    expect(clash.status).toBe(422);
  });
});

const fixture = fileURLToPath(new URL('../fixtures/apiserver-main.ts', import.meta.url));

function spawnServer(storeDir: string, socketPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, storeDir, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

describe('apiserver crash recovery', () => {
  it('keeps every acknowledged object after SIGKILL', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kemu-apiserver-kill-'));
    const storeDir = path.join(dir, 'store');
    const socketPath = path.join(dir, 'api.sock');
    const target = { socketPath };
    let child = await spawnServer(storeDir, socketPath);
    try {
      const acked: string[] = [];
      let stop = false;
      // four writers stream creates until the server is killed under them
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop && i < 10_000; i++) {
          const name = `w${w}-${i}`;
          try {
            const res = await call(target, 'POST', CM, configMap(name));
            if (res.status === 201) acked.push(name);
          } catch {
            return; // connection refused/reset: the server is gone
          }
        }
      });
      for (let i = 0; acked.length < 200 && i < 1000; i++) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      stop = true;
      await Promise.all(writers);
      child = await spawnServer(storeDir, socketPath);
      const list = await call(target, 'GET', CM);
      const present = new Set(list.body.items.map((o: { metadata: { name: string } }) => o.metadata.name));
      expect(acked.length).toBeGreaterThanOrEqual(200);
      expect(acked.filter((n) => !present.has(n))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
