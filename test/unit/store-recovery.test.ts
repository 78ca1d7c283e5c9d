import { appendFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/api/store/file-store.js';
import { encodeFrame } from '../../src/api/store/record-frame.js';
import { StoreError } from '../../src/api/store/store.js';
import { cmKey, configMap, recorder, tempStoreDir } from './store-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: FileStore | undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await tempStoreDir());
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await cleanup();
});

async function files(kind: 'wal' | 'snap'): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(kind)).sort();
}

async function writeSome(s: FileStore, from: number, to: number): Promise<void> {
  await Promise.all(
    Array.from({ length: to - from }, (_, i) => s.create(cmKey('ns', `o${from + i}`), configMap('ns', `o${from + i}`, { i: String(from + i) }))),
  );
}

describe('FileStore recovery', () => {
  it('reopens with every object, the same revision, and revisions continuing', async () => {
    store = await FileStore.open(dir);
    await writeSome(store, 0, 30);
    await store.update(cmKey('ns', 'o3'), configMap('ns', 'o3', { changed: 'yes' }));
    await store.delete(cmKey('ns', 'o4'));
    const before = store.list('/');
    await store.close();

    store = await FileStore.open(dir);
    expect(store.revision).toBe(32);
    expect(store.list('/')).toEqual(before);
    expect(store.get(cmKey('ns', 'o3'))?.data).toEqual({ changed: 'yes' });
    const next = await store.create(cmKey('ns', 'new'), configMap('ns', 'new'));
    expect(next.metadata.resourceVersion).toBe('33');
  });

  it('starts with empty history after a restart: older resumes are Gone, the current one works', async () => {
    store = await FileStore.open(dir);
    await writeSome(store, 0, 10);
    await store.close();
    store = await FileStore.open(dir);
    expect(store.compactedRevision).toBe(10);
    expect(() => store!.watch('/', 9, recorder())).toThrow(StoreError);
    const w = recorder();
    store.watch('/', 10, w);
    await store.create(cmKey('ns', 'x'), configMap('ns', 'x'));
    await w.waitFor(1);
    expect(w.events[0].revision).toBe(11);
  });

  it.each([
    ['garbage bytes', Buffer.from('this is not a record \x00\xff\x13')],
    ['a header promising more bytes than exist', Buffer.from([0xff, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5])],
    ['a record with a wrong checksum', (() => {
      const frame = encodeFrame('{"r":11,"t":"put","k":"/x","o":{"metadata":{}}}');
      frame[frame.length - 2] ^= 0x20;
      return frame;
    })()],
    ['half a valid record', encodeFrame('{"r":11,"t":"put","k":"/x","o":{"metadata":{}}}').subarray(0, 20)],
  ])('cuts off a torn tail (%s) and keeps working', async (_name, tail) => {
    store = await FileStore.open(dir);
    await writeSome(store, 0, 10);
    await store.close();
    const [segment] = await files('wal');
    const intactSize = (await stat(join(dir, segment))).size;
    await appendFile(join(dir, segment), tail);

    store = await FileStore.open(dir);
    expect(store.revision).toBe(10);
    expect(store.get('/x')).toBeUndefined();
    expect((await stat(join(dir, segment))).size).toBe(intactSize);
    await store.create(cmKey('ns', 'after'), configMap('ns', 'after'));
    await store.close();

    store = await FileStore.open(dir);
    expect(store.revision).toBe(11);
    expect(store.list('/registry/').items).toHaveLength(11);
  });

  it('writes snapshots, drops covered segments, and recovers from snapshot + log', async () => {
    store = await FileStore.open(dir, { snapshotEvery: 25 });
    await writeSome(store, 0, 60);
    await store.delete(cmKey('ns', 'o0'));
    await store.update(cmKey('ns', 'o59'), configMap('ns', 'o59', { last: 'write' }));
    const before = store.list('/');
    await store.close();

    // 62 records with a snapshot every 25: snapshots at 25 and 50, only the newest kept, and the
    // log holds just what came after it.
    expect(await files('snap')).toEqual(['snap-0000000000000050.snap']);
    expect(await files('wal')).toEqual(['wal-0000000000000051.log']);

    store = await FileStore.open(dir, { snapshotEvery: 25 });
    expect(store.revision).toBe(62);
    expect(store.list('/')).toEqual(before);
    await writeSome(store, 100, 120);
    await store.close();
    expect(await files('snap')).toEqual(['snap-0000000000000075.snap']);

    store = await FileStore.open(dir);
    expect(store.revision).toBe(82);
    expect(store.list('/registry/').items).toHaveLength(79);
  });

  it('falls back to the log when the newest snapshot is damaged', async () => {
    store = await FileStore.open(dir, { snapshotEvery: 1000 });
    await writeSome(store, 0, 20);
    await store.close();
    // A snapshot file that claims revision 20 but is cut short must be ignored, not trusted.
    await writeFile(join(dir, 'snap-0000000000000020.snap'), encodeFrame('{"revision":20,"count":5}'));
    store = await FileStore.open(dir);
    expect(store.revision).toBe(20);
    expect(store.list('/registry/').items).toHaveLength(20);
  });

  it('refuses to open when records are missing from the middle of the log', async () => {
    store = await FileStore.open(dir, { snapshotEvery: 10 });
    await writeSome(store, 0, 25);
    await store.close();
    store = undefined;
    // Losing the snapshot leaves segments starting at 21 with nothing before them.
    for (const snap of await files('snap')) await writeFile(join(dir, snap), 'damaged');
    await expect(FileStore.open(dir)).rejects.toThrow(/revision 21 follows 0; records are missing/);
    // The failed open released the lock.
    await expect(FileStore.open(dir)).rejects.toThrow(/records are missing/);
  });

  it('recovers 20,000 objects quickly', async () => {
    store = await FileStore.open(dir, { snapshotEvery: 15_000 });
    const big = { text: 'x'.repeat(300) };
    await Promise.all(
      Array.from({ length: 20_000 }, (_, i) =>
        store!.create(cmKey(`ns${i % 50}`, `cm-${i}`), { ...configMap(`ns${i % 50}`, `cm-${i}`, big), metadata: { name: `cm-${i}`, namespace: `ns${i % 50}`, labels: { app: 'a', i: String(i) } } }),
      ),
    );
    await store.close();
    const started = performance.now();
    store = await FileStore.open(dir);
    const elapsed = performance.now() - started;
    expect(store.revision).toBe(20_000);
    expect(store.list('/registry/configmaps/ns7/').items).toHaveLength(400);
    console.log(`recovered 20,000 objects (snapshot 15,000 + 5,000 log records) in ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(2000); // generous: parallel test files share 2 cores
  });
});
