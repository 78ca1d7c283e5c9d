// Informer against the real API server: sync, handlers, resume across a server restart, relist on
// 410 and label-selector informers. Every test also checks that no handler ever saw an object go
// back to an older resourceVersion.

import { afterEach, describe, expect, it } from 'vitest';
import type { Client, WatchHandle } from '../../src/api/client.js';
import { Informer } from '../../src/api/informer.js';
import { RESOURCES } from '../../src/api/resources.js';
import type { ConfigMap } from '../../src/api/types.js';
import { ApiFixture, waitFor } from './support/api-fixture.js';

const configmaps = RESOURCES.find((r) => r.plural === 'configmaps')!;

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

/** Records handler calls as 'add x', 'update x', 'delete x' and checks resourceVersions only grow. */
class Recorder {
  readonly calls: string[] = [];
  private readonly lastRv = new Map<string, number>();
  readonly regressions: string[] = [];

  handlers() {
    return {
      onAdd: (o: ConfigMap) => this.record('add', o),
      onUpdate: (old: ConfigMap, o: ConfigMap) => {
        if (Number(o.metadata.resourceVersion) < Number(old.metadata.resourceVersion)) this.regressions.push(`update ${o.metadata.name} older than old`);
        this.record('update', o);
      },
      onDelete: (o: ConfigMap) => {
        this.record('delete', o);
        this.lastRv.delete(o.metadata.name ?? '');
      },
    };
  }

  private record(kind: string, o: ConfigMap): void {
    const name = o.metadata.name ?? '';
    const rv = Number(o.metadata.resourceVersion);
    const last = this.lastRv.get(name);
    if (kind !== 'delete' && last !== undefined && rv < last) this.regressions.push(`${kind} ${name} rv ${rv} < ${last}`);
    this.lastRv.set(name, rv);
    this.calls.push(`${kind} ${name}`);
  }

  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }
}

/** Passes calls through to the real client, but can cut the running watch and hold new ones back. */
class GatedClient {
  private held: (() => void)[] = [];
  private current: WatchHandle | undefined;
  private holding = false;
  watchesStarted = 0;
  listsMade = 0;
  readonly client: Client;

  constructor(real: Client) {
    this.client = Object.assign(Object.create(real) as Client, {
      list: (...args: Parameters<Client['list']>) => {
        this.listsMade++;
        return real.list(...args);
      },
      watch: (...args: Parameters<Client['watch']>): WatchHandle => {
        this.watchesStarted++;
        if (!this.holding) return (this.current = real.watch(...args));
        // Held: the watch starts only at release(), from the resourceVersion asked for now.
        let inner: WatchHandle | undefined;
        let stopped = false;
        const done = new Promise<void>((resolve, reject) => {
          this.held.push(() => {
            if (stopped) return resolve();
            inner = this.current = real.watch(...args);
            inner.done.then(resolve, reject);
          });
        });
        return { stop: () => ((stopped = true), inner?.stop()), done };
      },
    });
  }

  /** Ends the running watch (as a dropped connection would) and holds the informer's next one. */
  cutAndHold(): void {
    this.holding = true;
    this.current?.stop();
  }

  release(): void {
    this.holding = false;
    for (const go of this.held.splice(0)) go();
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(extra: Parameters<typeof ApiFixture.start>[0] = {}): Promise<ApiFixture> {
  const f = await ApiFixture.start(extra);
  cleanups.push(() => f.close());
  return f;
}

function informer(client: Client, opts: ConstructorParameters<typeof Informer>[2] = {}): { inf: Informer<ConfigMap>; rec: Recorder } {
  const inf = new Informer<ConfigMap>(client, configmaps, { namespace: 'default', ...opts });
  const rec = new Recorder();
  inf.addHandler(rec.handlers());
  cleanups.push(() => inf.stop());
  return { inf, rec };
}

describe('Informer', () => {
  it('fills its cache with the initial list and reports hasSynced', async () => {
    const f = await setup();
    for (const n of ['a', 'b', 'c']) await f.client.create(configmaps, 'default', cm(n));
    const { inf, rec } = informer(f.client);
    expect(inf.hasSynced).toBe(false);
    await inf.start();
    expect(inf.hasSynced).toBe(true);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b', 'c']);
    expect(inf.get('default', 'b')?.metadata.name).toBe('b');
    expect(inf.get('default', 'nope')).toBeUndefined();
    expect(rec.calls.sort()).toEqual(['add a', 'add b', 'add c']);

    // A handler added after the sync is told about what is already cached.
    const late = new Recorder();
    inf.addHandler(late.handlers());
    expect(late.calls.sort()).toEqual(['add a', 'add b', 'add c']);
  });

  it('calls add, update and delete handlers for live changes', async () => {
    const f = await setup();
    const { inf, rec } = informer(f.client);
    const updates: [string | undefined, string | undefined][] = [];
    inf.addHandler({ onUpdate: (old, o) => updates.push([old.data?.v, o.data?.v]) });
    await inf.start();
    await f.client.create(configmaps, 'default', cm('live', {}, { v: '1' }));
    await waitFor('add', () => rec.count('add live') === 1);
    await f.client.patch(configmaps, 'default', 'live', { data: { v: '2' } });
    await waitFor('update', () => rec.count('update live') === 1);
    expect(updates).toEqual([['1', '2']]);
    expect(inf.get('default', 'live')?.data).toEqual({ v: '2' });
    await f.client.delete(configmaps, 'default', 'live');
    await waitFor('delete', () => rec.count('delete live') === 1);
    expect(inf.get('default', 'live')).toBeUndefined();
    expect(rec.calls).toEqual(['add live', 'update live', 'delete live']);
    expect(rec.regressions).toEqual([]);
  });

  it('reconnects after the server restarts and converges without repeating adds', async () => {
    const f = await setup();
    await f.client.create(configmaps, 'default', cm('before'));
    const { inf, rec } = informer(f.client);
    await inf.start();
    await f.stopServer();
    await new Promise((r) => setTimeout(r, 300)); // the informer retries against a closed socket meanwhile
    await f.restartServer();
    await f.client.create(configmaps, 'default', cm('after'));
    await f.client.patch(configmaps, 'default', 'before', { data: { changed: 'yes' } });
    await waitFor('changes after restart', () => rec.count('add after') === 1 && rec.count('update before') === 1, 10_000);
    expect(rec.count('add before')).toBe(1);
    expect(inf.get('default', 'before')?.data).toEqual({ changed: 'yes' });
    const truth = await f.client.list(configmaps, 'default');
    expect(inf.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort()).toEqual(
      truth.items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort(),
    );
    expect(rec.regressions).toEqual([]);
  });

  it('relists after 410 Gone and emits the differences, deletes included', async () => {
    const f = await setup({ watchHistory: 5 });
    for (const n of ['keep', 'change', 'remove']) await f.client.create(configmaps, 'default', cm(n));
    const gate = new GatedClient(f.client);
    const { inf, rec } = informer(gate.client);
    await inf.start();
    await waitFor('first watch', () => gate.watchesStarted === 1);

    gate.cutAndHold();
    await waitFor('informer asks to watch again', () => gate.watchesStarted === 2);
    // More changes than the server's history holds: resuming is impossible, a relist is needed.
    await f.client.delete(configmaps, 'default', 'remove');
    await f.client.patch(configmaps, 'default', 'change', { data: { v: 'new' } });
    for (let i = 0; i < 10; i++) await f.client.create(configmaps, 'default', cm(`new-${i}`));
    gate.release();

    await waitFor('relist differences', () => rec.count('delete remove') === 1 && rec.count('update change') === 1 && rec.count('add new-9') === 1, 10_000);
    expect(gate.listsMade).toBe(2);
    expect(rec.count('update keep')).toBe(0);
    expect(rec.count('add keep')).toBe(1);
    expect(inf.get('default', 'remove')).toBeUndefined();
    expect(inf.get('default', 'change')?.data).toEqual({ v: 'new' });
    expect(inf.list()).toHaveLength(12);
    // After the relist the informer watches again and sees live changes.
    await f.client.create(configmaps, 'default', cm('post-relist'));
    await waitFor('live after relist', () => rec.count('add post-relist') === 1);
    expect(rec.regressions).toEqual([]);
  });

  it('follows a label selector: objects that start or stop matching are added or deleted', async () => {
    const f = await setup();
    await f.client.create(configmaps, 'default', cm('web-1', { app: 'web' }));
    await f.client.create(configmaps, 'default', cm('db-1', { app: 'db' }));
    const { inf, rec } = informer(f.client, { labelSelector: 'app=web' });
    await inf.start();
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['web-1']);

    await f.client.create(configmaps, 'default', cm('web-2', { app: 'web' }));
    await f.client.create(configmaps, 'default', cm('db-2', { app: 'db' }));
    await f.client.patch(configmaps, 'default', 'web-1', { metadata: { labels: { app: 'db' } } });
    await f.client.patch(configmaps, 'default', 'db-1', { metadata: { labels: { app: 'web' } } });
    await waitFor('selector changes', () => rec.calls.length >= 4);
    expect(rec.calls).toEqual(['add web-1', 'add web-2', 'delete web-1', 'add db-1']);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(['db-1', 'web-2']);
  });

  it('resyncs: onUpdate(obj, obj) for every cached object', async () => {
    const f = await setup();
    await f.client.create(configmaps, 'default', cm('r1'));
    await f.client.create(configmaps, 'default', cm('r2'));
    const { inf } = informer(f.client, { resyncMs: 50 });
    const same: string[] = [];
    inf.addHandler({ onUpdate: (old, o) => old === o && same.push(o.metadata.name ?? '') });
    await inf.start();
    await waitFor('two resyncs', () => same.filter((n) => n === 'r1').length >= 2 && same.filter((n) => n === 'r2').length >= 2);
  });

  it('retries until the server comes up, then syncs', async () => {
    const f = await setup();
    await f.client.create(configmaps, 'default', cm('late'));
    await f.stopServer();
    const { inf } = informer(f.client);
    const started = inf.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(inf.hasSynced).toBe(false);
    await f.restartServer();
    await started;
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['late']);
  });

  it('start() rejects for a selector the server refuses', async () => {
    const f = await setup();
    const { inf } = informer(f.client, { fieldSelector: 'spec.nope=1' });
    await expect(inf.start()).rejects.toThrow('field label not supported: spec.nope');
    expect(inf.hasSynced).toBe(false);
  });
});
