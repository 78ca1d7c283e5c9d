// Shared by the store tests: temp directories and small object builders.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/types.js';
import type { StoreEvent, StoreWatchHandlers } from '../../src/api/store/store.js';

export async function tempStoreDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kemu-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

export function cmKey(namespace: string, name: string): string {
  return `/registry/configmaps/${namespace}/${name}`;
}

/** A watch handler that records what it gets, with a promise for "n events seen". */
export function recorder(): StoreWatchHandlers & {
  events: StoreEvent[];
  closed: string[];
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  waitClosed(timeoutMs?: number): Promise<string>;
} {
  const events: StoreEvent[] = [];
  const closed: string[] = [];
  const waitUntil = async (done: () => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  return {
    events,
    closed,
    onEvent: (e) => events.push(e),
    onClose: (reason) => closed.push(reason),
    waitFor: (n, timeoutMs = 5000) => waitUntil(() => events.length >= n, `${n} events (have ${events.length})`, timeoutMs),
    waitClosed: async (timeoutMs = 5000) => {
      await waitUntil(() => closed.length > 0, 'onClose', timeoutMs);
      return closed[0];
    },
  };
}
