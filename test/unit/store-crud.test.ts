import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/api/store/file-store.js';
import { StoreError } from '../../src/api/store/store.js';
import { cmKey, configMap, tempStoreDir } from './store-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: FileStore;

beforeEach(async () => {
  ({ dir, cleanup } = await tempStoreDir());
  store = await FileStore.open(dir);
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

describe('FileStore CRUD', () => {
  it('starts empty at revision 0', () => {
    expect(store.revision).toBe(0);
    expect(store.compactedRevision).toBe(0);
    expect(store.list('/').items).toEqual([]);
  });

  it('gives every write the next global revision as its resourceVersion', async () => {
    const a = await store.create(cmKey('ns1', 'a'), configMap('ns1', 'a'));
    const b = await store.create(cmKey('ns1', 'b'), configMap('ns1', 'b'));
    const a2 = await store.update(cmKey('ns1', 'a'), configMap('ns1', 'a', { k: 'v' }));
    const gone = await store.delete(cmKey('ns1', 'b'));
    expect([a, b, a2, gone].map((o) => o.metadata.resourceVersion)).toEqual(['1', '2', '3', '4']);
    expect(store.revision).toBe(4);
    expect(store.get(cmKey('ns1', 'a'))?.data).toEqual({ k: 'v' });
    expect(store.get(cmKey('ns1', 'b'))).toBeUndefined();
    // delete returns the last state with the deletion's revision
    expect(gone.metadata.name).toBe('b');
  });

  it('copies on the way in and hands out frozen objects', async () => {
    const input = configMap('ns1', 'a', { k: 'v' });
    const stored = await store.create(cmKey('ns1', 'a'), input);
    (input.data as Record<string, string>).k = 'changed';
    expect(store.get(cmKey('ns1', 'a'))?.data).toEqual({ k: 'v' });
    expect(input.metadata.resourceVersion).toBeUndefined();
    expect(() => {
      (stored.metadata as { name: string }).name = 'x';
    }).toThrow(TypeError);
  });

  it('rejects a duplicate create with AlreadyExists and changes nothing', async () => {
    await store.create(cmKey('ns1', 'a'), configMap('ns1', 'a'));
    const err = await rejection(store.create(cmKey('ns1', 'a'), configMap('ns1', 'a', { x: 'y' })));
    expect(err.kind).toBe('AlreadyExists');
    expect(err.key).toBe(cmKey('ns1', 'a'));
    expect(store.revision).toBe(1);
    expect(store.get(cmKey('ns1', 'a'))?.data).toEqual({});
  });

  it('reports NotFound for update and delete of a missing key', async () => {
    expect((await rejection(store.update(cmKey('ns1', 'nope'), configMap('ns1', 'nope')))).kind).toBe('NotFound');
    expect((await rejection(store.delete(cmKey('ns1', 'nope')))).kind).toBe('NotFound');
    expect(store.revision).toBe(0);
  });

  it('compares expectedRevision with the stored resourceVersion', async () => {
    const key = cmKey('ns1', 'a');
    const v1 = await store.create(key, configMap('ns1', 'a'));
    const v2 = await store.update(key, configMap('ns1', 'a', { n: '2' }), Number(v1.metadata.resourceVersion));
    const stale = await rejection(store.update(key, configMap('ns1', 'a', { n: '3' }), Number(v1.metadata.resourceVersion)));
    expect(stale.kind).toBe('Conflict');
    expect(stale.message).toContain('the object has been modified');
    expect((await rejection(store.delete(key, 1))).kind).toBe('Conflict');
    await store.delete(key, Number(v2.metadata.resourceVersion));
    expect(store.get(key)).toBeUndefined();
  });

  it('checks writes issued together against each other in call order', async () => {
    const key = cmKey('ns1', 'a');
    const results = await Promise.allSettled([
      store.create(key, configMap('ns1', 'a')),
      store.create(key, configMap('ns1', 'a')),
      store.update(key, configMap('ns1', 'a', { n: '1' }), 1),
      store.update(key, configMap('ns1', 'a', { n: '2' }), 1),
      store.delete(key, 2),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(store.get(key)).toBeUndefined();
    expect(store.revision).toBe(3);
  });

  it('does not show a write to readers before it is durable', async () => {
    const pending = store.create(cmKey('ns1', 'a'), configMap('ns1', 'a'));
    expect(store.get(cmKey('ns1', 'a'))).toBeUndefined();
    expect(store.revision).toBe(0);
    await pending;
    expect(store.get(cmKey('ns1', 'a'))).toBeDefined();
  });

  it('lists by prefix in key order with the revision of the list', async () => {
    const names = ['zeta', 'alpha', 'mid', 'beta'];
    for (const n of names) await store.create(cmKey('ns2', n), configMap('ns2', n));
    await store.create(cmKey('ns1', 'only'), configMap('ns1', 'only'));
    await store.create('/registry/secrets/ns2/s', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns2' } });
    const ns2 = store.list('/registry/configmaps/ns2/');
    expect(ns2.items.map((o) => o.metadata.name)).toEqual([...names].sort());
    expect(ns2.revision).toBe(6);
    expect(store.list('/registry/configmaps/').items).toHaveLength(5);
    expect(store.list('/registry/').items).toHaveLength(6);
    expect(store.list('/registry/services/').items).toEqual([]);
  });

  it('lists a prefix among 20,000 keys quickly', async () => {
    const writes = [];
    for (let i = 0; i < 20_000; i++) writes.push(store.create(cmKey(`ns${i % 100}`, `cm-${i}`), configMap(`ns${i % 100}`, `cm-${i}`)));
    await Promise.all(writes);
    const started = performance.now();
    let listed = 0;
    for (let i = 0; i < 100; i++) listed += store.list(`/registry/configmaps/ns${i}/`).items.length;
    const elapsed = performance.now() - started;
    expect(listed).toBe(20_000);
    // 100 prefix lists over 20k keys; sorting the whole map each time would take far longer.
    expect(elapsed).toBeLessThan(200);
  });

  it('refuses writes after close', async () => {
    await store.close();
    await expect(store.create(cmKey('ns1', 'a'), configMap('ns1', 'a'))).rejects.toThrow('store is closed');
    store = await FileStore.open(dir);
  });
});

describe('FileStore directory lock', () => {
  it('refuses a second open of the same directory while the first holds it', async () => {
    await expect(FileStore.open(dir)).rejects.toThrow(/locked by process \d+/);
  });
});

describe('FileStore after a failed log write', () => {
  it('rejects the affected writes, keeps them invisible, and refuses every later write', async () => {
    await store.create(cmKey('ns1', 'ok'), configMap('ns1', 'ok'));
    // Pull the log file out from under the writer, as a failing disk would: the next write errors.
    const internals = store as unknown as { writer: { handle: { close(): Promise<void> } } };
    await internals.writer.handle.close();
    const results = await Promise.allSettled([
      store.create(cmKey('ns1', 'a'), configMap('ns1', 'a')),
      store.create(cmKey('ns1', 'b'), configMap('ns1', 'b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(/^store log write failed/);
    expect(store.get(cmKey('ns1', 'a'))).toBeUndefined();
    expect(store.revision).toBe(1);
    await expect(store.update(cmKey('ns1', 'ok'), configMap('ns1', 'ok'))).rejects.toThrow(/store refuses writes after a failure/);
  });
});

it('rejects a watch from a revision that is not a non-negative integer', () => {
  expect(() => store.watch('/', -1, { onEvent: () => {} })).toThrow(/non-negative integer/);
});
