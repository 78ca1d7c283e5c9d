// HttpClient against the real API server on a temporary Unix socket.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterPaths, defaultClusterConfig } from '../../src/api/cluster.js';
import { ApiError } from '../../src/api/errors.js';
import { clientForCluster, HttpClient } from '../../src/api/http-client.js';
import { RESOURCES } from '../../src/api/resources.js';
import { startApiServer } from '../../src/api/server/apiserver.js';
import type { ConfigMap, KubeObject, Namespace, WatchEvent } from '../../src/api/types.js';
import { ApiFixture, waitFor } from './support/api-fixture.js';

const configmaps = RESOURCES.find((r) => r.plural === 'configmaps')!;
const namespaces = RESOURCES.find((r) => r.plural === 'namespaces')!;

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(e)}`);
  return e;
}

let f: ApiFixture;
beforeAll(async () => {
  f = await ApiFixture.start({ watchHistory: 20 });
});
afterAll(async () => {
  await f.close();
});

describe('HttpClient CRUD', () => {
  it('creates, gets, updates, patches and deletes a ConfigMap', async () => {
    const c = f.client;
    const created = await c.create(configmaps, 'default', cm('crud', { app: 'web' }, { a: '1' }));
    expect(created.metadata.uid).toBeTruthy();
    expect(created.metadata.namespace).toBe('default');
    const got = await c.get<ConfigMap>(configmaps, 'default', 'crud');
    expect(got.data).toEqual({ a: '1' });

    const updated = await c.update(configmaps, 'default', { ...got, data: { a: '2' } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(got.metadata.resourceVersion));

    const patched = await c.patch<ConfigMap>(configmaps, 'default', 'crud', { data: { a: null, b: '3' }, metadata: { labels: { tier: 'fe' } } });
    expect(patched.data).toEqual({ b: '3' });
    expect(patched.metadata.labels).toEqual({ app: 'web', tier: 'fe' });

    await c.delete(configmaps, 'default', 'crud');
    const gone = await apiError(c.get(configmaps, 'default', 'crud'));
    expect(gone.code).toBe(404);
    expect(gone.message).toBe('configmaps "crud" not found');
  });

  it('reports AlreadyExists and a stale resourceVersion as 409 ApiErrors', async () => {
    const c = f.client;
    const first = await c.create(configmaps, 'default', cm('twice'));
    const dup = await apiError(c.create(configmaps, 'default', cm('twice')));
    expect([dup.code, dup.reason]).toEqual([409, 'AlreadyExists']);

    await c.update(configmaps, 'default', { ...first, data: { x: 'y' } });
    const stale = await apiError(c.update(configmaps, 'default', { ...first, data: { x: 'z' } }));
    expect([stale.code, stale.reason]).toEqual([409, 'Conflict']);
    expect(stale.message).toContain('Operation cannot be fulfilled on configmaps "twice"');
  });

  it('lists with label and field selectors', async () => {
    const c = f.client;
    await c.create(configmaps, 'default', cm('sel-a', { sel: 'yes' }));
    await c.create(configmaps, 'default', cm('sel-b', { sel: 'no' }));
    const yes = await c.list(configmaps, 'default', { labelSelector: 'sel=yes' });
    expect(yes.items.map((i) => i.metadata.name)).toEqual(['sel-a']);
    const byName = await c.list(configmaps, undefined, { fieldSelector: 'metadata.name=sel-b' });
    expect(byName.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['default/sel-b']);
    expect(Number(yes.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('lists the namespaces the server creates at startup', async () => {
    const list = await f.client.list<Namespace>(namespaces);
    expect(list.items.map((n) => n.metadata.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
  });
});

describe('HttpClient watch', () => {
  it('delivers changes after a resourceVersion in order', async () => {
    const c = f.client;
    const start = await c.list(configmaps, 'default');
    const events: WatchEvent<KubeObject>[] = [];
    const w = c.watch(configmaps, 'default', { resourceVersion: start.metadata.resourceVersion }, (e) => events.push(e));
    await c.create(configmaps, 'default', cm('watched'));
    await c.patch(configmaps, 'default', 'watched', { data: { k: 'v' } });
    await c.delete(configmaps, 'default', 'watched');
    await waitFor('three events', () => events.length >= 3);
    w.stop();
    await w.done;
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
  });

  it('rejects done with 410 Expired when the resourceVersion is older than the history', async () => {
    const c = f.client;
    const old = (await c.list(configmaps, 'default')).metadata.resourceVersion;
    for (let i = 0; i < 30; i++) await c.create(configmaps, 'default', cm(`churn-${i}`));
    const w = c.watch(configmaps, 'default', { resourceVersion: old }, () => undefined);
    const err = await apiError(w.done);
    expect(err.code).toBe(410);
    expect(err.reason).toBe('Expired');
    expect(err.message).toMatch(new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`));
  });
});

describe('HttpClient endpoints', () => {
  it('reaches the TCP listener with the bearer token and gets 401 without it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kemu-api-tcp-'));
    const server = await startApiServer({
      storeDir: path.join(dir, 'store'),
      socketPath: path.join(dir, 'api.sock'),
      config: defaultClusterConfig('tcp'),
      tcp: { host: '127.0.0.1', port: 0, token: 'right-token' },
    });
    try {
      const base = `http://127.0.0.1:${server.tcpPort}`;
      const good = new HttpClient({ baseUrl: base, token: 'right-token' });
      const bad = new HttpClient({ baseUrl: base, token: 'wrong-token' });
      expect((await good.get(namespaces, undefined, 'default')).metadata.name).toBe('default');
      const denied = await apiError(bad.get(namespaces, undefined, 'default'));
      expect(denied.code).toBe(401);
      good.close();
      bad.close();
    } finally {
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('clientForCluster talks to the socket in the cluster state directory', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'kemu-state-'));
    const saved = process.env.KEMU_STATE_ROOT;
    process.env.KEMU_STATE_ROOT = root;
    try {
      const paths = clusterPaths('lab');
      await fs.mkdir(paths.dir, { recursive: true });
      const server = await startApiServer({ storeDir: paths.storeDir, socketPath: paths.apiSocket, config: defaultClusterConfig('lab') });
      const client = clientForCluster('lab');
      try {
        const version = (await client.raw('/version')) as { gitVersion?: string };
        expect(version.gitVersion).toBe('v1.31.0-kemu');
      } finally {
        client.close();
        await server.close();
      }
      await expect(clientForCluster('lab').get(namespaces, undefined, 'default')).rejects.toThrow(
        `the cluster's API is not reachable at ${paths.apiSocket} (is the cluster up?)`,
      );
    } finally {
      if (saved === undefined) delete process.env.KEMU_STATE_ROOT;
      else process.env.KEMU_STATE_ROOT = saved;
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
