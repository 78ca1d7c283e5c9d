// The sync runner's timing: batching within minInterval, periodic syncs, retry after failure.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncRunner } from '../../src/proxy/sync-runner.js';

describe('SyncRunner', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  function runner(results: boolean[] = []) {
    const starts: number[] = [];
    const r = new SyncRunner(
      async () => {
        starts.push(Date.now());
        return results.shift() ?? true;
      },
      { minIntervalMs: 1000, maxIntervalMs: 60_000, retryIntervalMs: 5000 },
    );
    return { r, starts };
  }

  it('syncs at once while the burst lasts, then batches requests until the next token', async () => {
    const { r, starts } = runner();
    r.run();
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(100);
    r.run(); // the second token of the burst: at once
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([0, 100]);
    await vi.advanceTimersByTimeAsync(100);
    r.run();
    r.run();
    r.run();
    await vi.advanceTimersByTimeAsync(2000);
    // Tokens refill at one per second: 0.1 left after the second sync, a whole one at 1000.
    expect(starts).toEqual([0, 100, 1000]);
    await r.stop();
  });

  it('syncs a change after a quiet period at once', async () => {
    const { r, starts } = runner();
    for (let i = 0; i < 4; i++) {
      r.run();
      await vi.advanceTimersByTimeAsync(0);
    }
    await vi.advanceTimersByTimeAsync(10_000);
    const before = starts.length;
    r.run();
    await vi.advanceTimersByTimeAsync(0);
    expect(starts.length).toBe(before + 1);
    expect(starts.at(-1)).toBe(Date.now());
    await r.stop();
  });

  it('syncs every maxInterval without changes and retries a failure after retryInterval', async () => {
    const { r, starts } = runner([false, true]);
    r.run();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(starts).toEqual([0, 5000]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(starts).toEqual([0, 5000, 65_000]);
    await r.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(starts).toHaveLength(3);
  });
});
