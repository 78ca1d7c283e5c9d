import { describe, expect, it } from 'vitest';
import { crashLoopMessage, goDurationString, nextBackoff, restartDelay, type BackoffEntry } from '../../src/node/backoff.js';

describe('crash-loop back-off', () => {
  it('restarts at once the first time, then waits 10 s, 20 s, 40 s … capped at 5 min', () => {
    let entry: BackoffEntry | undefined;
    let t = 1_000_000;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      waits.push(restartDelay(entry, t, t)); // the container just exited at t
      t += waits[waits.length - 1]!;
      entry = nextBackoff(entry, t);
      t += 1000; // it runs 1 s before exiting again
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('counts the wait from the exit, not from now', () => {
    const entry = { backoffMs: 20_000, lastUpdate: 0 };
    expect(restartDelay(entry, 5000, 12_000)).toBe(13_000);
    expect(restartDelay(entry, 5000, 30_000)).toBe(0);
  });

  it('starts over once the container ran longer than twice the maximum', () => {
    const entry = { backoffMs: 160_000, lastUpdate: 0 };
    expect(restartDelay(entry, 600_001, 600_001)).toBe(0);
    expect(nextBackoff(entry, 600_001)).toEqual({ backoffMs: 10_000, lastUpdate: 600_001 });
    expect(nextBackoff(entry, 599_999).backoffMs).toBe(300_000);
  });

  it("words the waiting message as the kubelet's", () => {
    expect(goDurationString(10_000)).toBe('10s');
    expect(goDurationString(80_000)).toBe('1m20s');
    expect(goDurationString(300_000)).toBe('5m0s');
    expect(goDurationString(3_600_000)).toBe('1h0m0s');
    expect(crashLoopMessage({ backoffMs: 40_000, lastUpdate: 0 }, 'app', { name: 'web', namespace: 'default', uid: 'abc' })).toBe(
      'back-off 40s restarting failed container=app pod=web_default(abc)',
    );
  });
});
