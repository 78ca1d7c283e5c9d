// kill -9 durability: every create the writer process saw acknowledged must survive its death.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/api/store/file-store.js';
import { tempStoreDir } from './store-helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/store-writer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempStoreDir());
});
afterEach(() => cleanup());

/** Runs the writer until it has acknowledged `ackTarget` writes, SIGKILLs it, returns the acks. */
function runAndKill(snapshotEvery: number, ackTarget: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, '32', String(snapshotEvery), '200000'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Map<string, number>();
    let partial = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? ''; // an unterminated line was cut by the kill: not an ack we saw
      for (const line of lines) {
        const [key, rv] = line.split(' ');
        acked.set(key, Number(rv));
      }
      if (!killed && acked.size >= ackTarget) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || !killed) reject(new Error(`writer ended without our kill (${signal}): ${stderr}`));
      else resolve(acked);
    });
  });
}

describe('FileStore kill -9 durability', () => {
  it.each([
    ['log only', 100_000],
    ['with snapshots and segment switches during the run', 150],
  ])('keeps every acknowledged write (%s)', async (_name, snapshotEvery) => {
    const acked = await runAndKill(snapshotEvery, 600);
    expect(acked.size).toBeGreaterThanOrEqual(600);

    // The dead writer's lock is stale and is taken over.
    const store = await FileStore.open(dir);
    try {
      const missing = [...acked].filter(([key, rv]) => store.get(key)?.metadata.resourceVersion !== String(rv));
      expect(missing).toEqual([]);
      const lastAcked = Math.max(...acked.values());
      expect(store.revision).toBeGreaterThanOrEqual(lastAcked);
      const next = await store.create('/registry/configmaps/crash/after', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'after', namespace: 'crash' },
      });
      expect(Number(next.metadata.resourceVersion)).toBe(store.revision);
      expect(store.revision).toBeGreaterThan(lastAcked);
    } finally {
      await store.close();
    }
  });
});
