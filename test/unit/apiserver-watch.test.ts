import { afterEach, describe, expect, it } from 'vitest';
import { CM, configMap, startTestServer, type Json, type TestServer } from './apiserver-harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const names = (events: Json[]): string[] => events.map((e) => `${e.type} ${e.object.metadata.name}`);
const mergePatch = { 'Content-Type': 'application/merge-patch+json' };

describe('apiserver watch', () => {
  it('starts from "0" with ADDED for existing objects, then streams changes', async () => {
    t = await startTestServer();
    await t.call('POST', CM, configMap('b'));
    await t.call('POST', CM, configMap('a'));
    const w = await t.watch(`${CM}?watch=true&resourceVersion=0`);
    await w.waitFor(2);
    await t.call('PATCH', `${CM}/a`, { data: { k: 'changed' } }, mergePatch);
    await t.call('DELETE', `${CM}/b`);
    const events = await w.waitFor(4);
    expect(names(events)).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b']);
    expect(events[2].object.data.k).toBe('changed');
    expect(events[2].object).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    w.close();
  });

  it('resumes after a resourceVersion', async () => {
    t = await startTestServer();
    const first = (await t.call('POST', CM, configMap('r1'))).body;
    await t.call('POST', CM, configMap('r2'));
    await t.call('POST', CM, configMap('r3'));
    const w = await t.watch(`${CM}?watch=1&resourceVersion=${first.metadata.resourceVersion}`);
    const events = await w.waitFor(2);
    expect(names(events)).toEqual(['ADDED r2', 'ADDED r3']);
    w.close();
  });

  it('sends a 410 Expired ERROR and ends for a revision the history no longer holds', async () => {
    t = await startTestServer({ watchHistory: 3 });
    const first = (await t.call('POST', CM, configMap('old'))).body;
    for (let i = 0; i < 6; i++) await t.call('POST', CM, configMap(`n${i}`));
    const w = await t.watch(`${CM}?watch=true&resourceVersion=${first.metadata.resourceVersion}`);
    const [e] = await w.waitFor(1);
    expect(e.type).toBe('ERROR');
    expect(e.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(e.object.message).toMatch(new RegExp(`^too old resource version: ${first.metadata.resourceVersion} \\(\\d+\\)$`));
    await w.ended;
  });

  it('sends bookmarks with the current resourceVersion when allowed', async () => {
    t = await startTestServer({ bookmarkIntervalMs: 50 });
    const created = (await t.call('POST', CM, configMap('bm'))).body;
    const w = await t.watch(`${CM}?watch=true&resourceVersion=${created.metadata.resourceVersion}&allowWatchBookmarks=true`);
    const events = await w.waitFor(2);
    expect(events[0]).toEqual({ type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: created.metadata.resourceVersion } } });
    w.close();
    const plain = await t.watch(`${CM}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);
    await new Promise((r) => setTimeout(r, 200));
    expect(plain.events).toEqual([]);
    plain.close();
  });

  it('ends the stream after timeoutSeconds', async () => {
    t = await startTestServer();
    const w = await t.watch(`${CM}?watch=true&timeoutSeconds=1`);
    const start = Date.now();
    await w.ended;
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
  });

  it('turns selector transitions into ADDED and DELETED', async () => {
    t = await startTestServer();
    await t.call('POST', CM, configMap('sel', { app: 'web' }));
    const w = await t.watch(`${CM}?watch=true&labelSelector=app%3Dweb`);
    await w.waitFor(1);
    await t.call('PATCH', `${CM}/sel`, { metadata: { labels: { app: 'db' } } }, mergePatch);
    await t.call('PATCH', `${CM}/sel`, { data: { k: 'unseen' } }, mergePatch);
    const back = (await t.call('PATCH', `${CM}/sel`, { metadata: { labels: { app: 'web' } } }, mergePatch)).body;
    await t.call('PATCH', `${CM}/sel`, { data: { k: 'seen' } }, mergePatch);
    await t.call('POST', CM, configMap('other', { app: 'db' }));
    await t.call('DELETE', `${CM}/sel`);
    const events = await w.waitFor(5);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED', 'ADDED', 'MODIFIED', 'DELETED']);
    // the DELETED for leaving the selection shows the last matching state
    expect(events[1].object.metadata.labels).toEqual({ app: 'web' });
    expect(events[2].object.metadata.resourceVersion).toBe(back.metadata.resourceVersion);
    expect(events[3].object.data.k).toBe('seen');
    await new Promise((r) => setTimeout(r, 50));
    expect(w.events).toHaveLength(5);
    w.close();
  });

  it('filters a watch by field selector and namespace', async () => {
    t = await startTestServer();
    await t.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    const w = await t.watch('/api/v1/configmaps?watch=true&fieldSelector=metadata.name%3Dpick');
    const nsw = await t.watch('/api/v1/namespaces/other/configmaps?watch=true');
    await t.call('POST', CM, configMap('skip'));
    await t.call('POST', '/api/v1/namespaces/other/configmaps', configMap('pick'));
    await t.call('POST', CM, configMap('pick'));
    const events = await w.waitFor(2);
    expect(events.map((e) => `${e.object.metadata.namespace}/${e.object.metadata.name}`)).toEqual(['other/pick', 'default/pick']);
    const nsEvents = await nsw.waitFor(1);
    expect(names(nsEvents)).toEqual(['ADDED pick']);
    w.close();
    nsw.close();
  });

  it('gives 20+ concurrent watchers every event in order', async () => {
    t = await startTestServer();
    const start = (await t.call('GET', CM)).body.metadata.resourceVersion;
    const watchers = await Promise.all(Array.from({ length: 24 }, () => t!.watch(`${CM}?watch=true&resourceVersion=${start}`)));
    const n = 40;
    await Promise.all(Array.from({ length: n }, (_, i) => t!.call('POST', CM, configMap(`c${i}`))));
    const expected = (await t.call('GET', CM)).body.items.length;
    expect(expected).toBe(n);
    for (const w of watchers) {
      const events = await w.waitFor(n);
      const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
      expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
      expect(new Set(events.map((e) => e.object.metadata.name)).size).toBe(n);
      w.close();
    }
  });
});
