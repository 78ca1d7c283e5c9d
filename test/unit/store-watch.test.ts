import { afterEach, describe, expect, it } from 'vitest';
import { FileStore, type FileStoreOptions } from '../../src/api/store/file-store.js';
import { StoreError, type StoreEvent } from '../../src/api/store/store.js';
import { cmKey, configMap, recorder, tempStoreDir } from './store-helpers.js';

const open: Array<{ store: FileStore; cleanup(): Promise<void> }> = [];

async function newStore(opts?: FileStoreOptions): Promise<FileStore> {
  const { dir, cleanup } = await tempStoreDir();
  const store = await FileStore.open(dir, opts);
  open.push({ store, cleanup });
  return store;
}

afterEach(async () => {
  for (const { store, cleanup } of open.splice(0)) {
    await store.close();
    await cleanup();
  }
});

const revisions = (events: StoreEvent[]) => events.map((e) => e.revision);

describe('FileStore watch', () => {
  it('delivers live events with their type, key, object and revision', async () => {
    const store = await newStore();
    const w = recorder();
    store.watch('/registry/configmaps/', 0, w);
    await store.create(cmKey('a', 'x'), configMap('a', 'x'));
    await store.update(cmKey('a', 'x'), configMap('a', 'x', { k: 'v' }));
    await store.delete(cmKey('a', 'x'));
    await w.waitFor(3);
    expect(w.events.map((e) => [e.type, e.key, e.revision, e.object.metadata.resourceVersion])).toEqual([
      ['ADDED', cmKey('a', 'x'), 1, '1'],
      ['MODIFIED', cmKey('a', 'x'), 2, '2'],
      ['DELETED', cmKey('a', 'x'), 3, '3'],
    ]);
    expect(w.events[1].object.data).toEqual({ k: 'v' });
    expect(w.events[2].object.data).toEqual({ k: 'v' });
  });

  it('replays retained events after a revision, then continues live', async () => {
    const store = await newStore();
    for (let i = 1; i <= 5; i++) await store.create(cmKey('a', `o${i}`), configMap('a', `o${i}`));
    const w = recorder();
    store.watch('/registry/', 2, w);
    await store.create(cmKey('a', 'o6'), configMap('a', 'o6'));
    await w.waitFor(4);
    expect(revisions(w.events)).toEqual([3, 4, 5, 6]);
  });

  it('filters by key prefix', async () => {
    const store = await newStore();
    const w = recorder();
    store.watch('/registry/configmaps/b/', 0, w);
    await store.create(cmKey('a', 'x'), configMap('a', 'x'));
    await store.create(cmKey('b', 'x'), configMap('b', 'x'));
    await store.create(cmKey('bb', 'x'), configMap('bb', 'x'));
    await store.create(cmKey('b', 'y'), configMap('b', 'y'));
    await w.waitFor(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(w.events.map((e) => e.key)).toEqual([cmKey('b', 'x'), cmKey('b', 'y')]);
  });

  it('has no gap or duplicate between replay and live while writes race the watch', async () => {
    const store = await newStore();
    const total = 400;
    const writes: Promise<unknown>[] = [];
    const watchers: ReturnType<typeof recorder>[] = [];
    for (let i = 0; i < total; i++) {
      writes.push(store.create(cmKey('a', `o${i}`), configMap('a', `o${i}`)));
      // Start watches at varying points while earlier writes are still committing.
      if (i % 50 === 25) {
        await new Promise((r) => setImmediate(r));
        const w = recorder();
        store.watch('/registry/', 0, w);
        watchers.push(w);
      }
    }
    await Promise.all(writes);
    for (const w of watchers) {
      await w.waitFor(total);
      expect(revisions(w.events)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    }
  });

  it('resumes from a list revision without missing or repeating events', async () => {
    const store = await newStore();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) writes.push(store.create(cmKey('a', `o${i}`), configMap('a', `o${i}`)));
    await writes[40];
    const listed = store.list('/registry/');
    const w = recorder();
    store.watch('/registry/', listed.revision, w);
    await Promise.all(writes);
    await w.waitFor(100 - listed.items.length);
    const seen = new Set([...listed.items.map((o) => o.metadata.name), ...w.events.map((e) => e.object.metadata.name)]);
    expect(listed.items.length + w.events.length).toBe(100);
    expect(seen.size).toBe(100);
  });

  it('throws Gone for a revision older than the retained history', async () => {
    const store = await newStore({ historySize: 5 });
    for (let i = 1; i <= 12; i++) await store.create(cmKey('a', `o${i}`), configMap('a', `o${i}`));
    expect(store.compactedRevision).toBe(7);
    let err: unknown;
    try {
      store.watch('/registry/', 6, recorder());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).kind).toBe('Gone');
    expect((err as StoreError).message).toBe('too old resource version: 6 (7)');
    const w = recorder();
    store.watch('/registry/', 7, w);
    await w.waitFor(5);
    expect(revisions(w.events)).toEqual([8, 9, 10, 11, 12]);
  });

  it('delivers every event to each of 50 watchers', async () => {
    const store = await newStore();
    const watchers = Array.from({ length: 50 }, () => recorder());
    watchers.forEach((w, i) => store.watch(i % 2 ? '/registry/configmaps/' : '/registry/', 0, w));
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.create(cmKey('a', `o${i}`), configMap('a', `o${i}`))));
    for (const w of watchers) {
      await w.waitFor(200);
      expect(revisions(w.events)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    }
  });

  it('stops delivering after stop()', async () => {
    const store = await newStore();
    const w = recorder();
    const watch = store.watch('/registry/', 0, w);
    await store.create(cmKey('a', 'x'), configMap('a', 'x'));
    await w.waitFor(1);
    watch.stop();
    await store.create(cmKey('a', 'y'), configMap('a', 'y'));
    await new Promise((r) => setTimeout(r, 20));
    expect(w.events).toHaveLength(1);
    expect(w.closed).toEqual([]);
  });

  it('closes a watcher whose undelivered queue passes the bound, leaving others intact', async () => {
    const store = await newStore({ watchQueueLimit: 50 });
    const slow = recorder();
    const fine = recorder();
    store.watch('/registry/', 0, slow);
    // 120 writes commit together, before the slow watcher gets a turn: its queue passes 50.
    await Promise.all(Array.from({ length: 120 }, (_, i) => store.create(cmKey('a', `o${i}`), configMap('a', `o${i}`))));
    expect(await slow.waitClosed()).toBe('too slow');
    expect(slow.events).toEqual([]);
    store.watch('/registry/', store.revision, fine);
    await store.create(cmKey('a', 'after'), configMap('a', 'after'));
    await fine.waitFor(1);
    expect(fine.events[0].revision).toBe(121);
  });

  it('isolates a throwing handler from the store and other watchers', async () => {
    const store = await newStore();
    const good = recorder();
    const closed: string[] = [];
    store.watch('/registry/', 0, {
      onEvent: () => {
        throw new Error('boom');
      },
      onClose: (reason) => closed.push(reason),
    });
    store.watch('/registry/', 0, good);
    await store.create(cmKey('a', 'x'), configMap('a', 'x'));
    await store.create(cmKey('a', 'y'), configMap('a', 'y'));
    await good.waitFor(2);
    expect(closed).toEqual(['watch handler failed: boom']);
    expect(store.revision).toBe(2);
  });

  it('ends watches with "store closed" after delivering what was committed', async () => {
    const store = await newStore();
    const w = recorder();
    store.watch('/registry/', 0, w);
    await store.create(cmKey('a', 'x'), configMap('a', 'x'));
    await store.close();
    expect(w.events.map((e) => e.revision)).toEqual([1]);
    expect(w.closed).toEqual(['store closed']);
    expect(() => store.watch('/registry/', 0, recorder())).toThrow('store is closed');
  });
});
