import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDLE_RELEASE_MS, withFileLock } from '../../src/cni/plugin/ipam-lock.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemut-ipam-lock-'));
  file = path.join(dir, 'lock');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Whether another process can take the flock right now (util-linux flock, non-blocking). */
const othersCanLock = (f: string) => spawnSync('flock', ['-n', f, 'true']).status === 0;

/** Poll until another process can lock f; bounded. */
async function waitUntilFree(f: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (othersCanLock(f)) return true;
    await new Promise((r) => setTimeout(r, IDLE_RELEASE_MS / 2));
  }
  return false;
}

describe('host-local lock held through an fd', () => {
  it('creates the lock file with host-local mode and shuts other processes out while held', async () => {
    const inside = await withFileLock(file, () => othersCanLock(file));
    expect(inside).toBe(false);
    expect(fs.statSync(file).mode & 0o777).toBe(0o750);
    expect(await waitUntilFree(file)).toBe(true);
  });

  it('runs the calls of this process one at a time, in order', async () => {
    const events: string[] = [];
    const slow = (name: string) => async () => {
      events.push(`${name} start`);
      await new Promise((r) => setTimeout(r, 20));
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([withFileLock(file, slow('a')), withFileLock(file, () => Promise.reject(new Error('b failed'))).catch((e: Error) => e.message), withFileLock(file, slow('c'))]);
    expect(results).toEqual(['a', 'b failed', 'c']);
    expect(events).toEqual(['a start', 'a end', 'c start', 'c end']);
  });

  it('waits for another process that holds the lock', async () => {
    // The other holder marks its end just before it lets go of the lock.
    const done = path.join(dir, 'other-done');
    const other = spawn('flock', ['-x', file, 'sh', '-c', `echo held; sleep 0.3; : > '${done}'`], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => other.stdout.once('data', r));
    const ranAfterOther = await withFileLock(file, () => fs.existsSync(done));
    expect(ranAfterOther).toBe(true);
  });

  it('locks the new file when the directory was made again', async () => {
    await withFileLock(file, () => undefined);
    fs.rmSync(dir, { recursive: true });
    fs.mkdirSync(dir);
    const inside = await withFileLock(file, () => othersCanLock(file));
    expect(inside).toBe(false);
  });
});
