// FileStore benchmark: acknowledged (fsync'd) writes per second at several writer counts, and the
// time to reopen a store holding 20,000 objects. Prints a table; never fails.
//   node --import tsx bench/store.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../src/api/store/file-store.js';
import type { KubeObject } from '../src/api/types.js';

function pod(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: `ns-${i % 20}`, labels: { app: `app-${i % 50}`, 'pod-template-hash': '5d4f8c7b9' } },
    spec: { nodeName: 'worker', containers: [{ name: 'main', image: 'agnhost', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: `10.244.${i % 250}.${i % 200}` },
  };
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kemu-store-bench-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writesPerSecond(writers: number, total: number): Promise<number> {
  return withDir(async (dir) => {
    const store = await FileStore.open(dir);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < total) {
          const i = next++;
          await store.create(`/registry/pods/ns-${i % 20}/pod-${i}`, pod(i));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    return total / seconds;
  });
}

async function reopenMs(objects: number): Promise<number> {
  return withDir(async (dir) => {
    const store = await FileStore.open(dir);
    await Promise.all(Array.from({ length: objects }, (_, i) => store.create(`/registry/pods/ns-${i % 20}/pod-${i}`, pod(i))));
    await store.close();
    const started = performance.now();
    const reopened = await FileStore.open(dir);
    const ms = performance.now() - started;
    await reopened.close();
    return ms;
  });
}

const rows: Array<[string, string]> = [];
for (const [writers, total] of [[1, 500], [8, 4000], [64, 20000], [256, 20000]] as const) {
  rows.push([`${writers} concurrent writers, ${total} creates`, `${Math.round(await writesPerSecond(writers, total))} acked writes/s`]);
}
rows.push(['reopen with 20,000 objects (snapshot at 10,000 + log)', `${Math.round(await reopenMs(20_000))} ms`]);
const width = Math.max(...rows.map(([name]) => name.length));
console.log('FileStore');
for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
