import { describe, expect, it } from 'vitest';
import { BackoffRateLimiter, ControllerLoop, splitKey, WorkQueue } from '../../src/controllers/controller.js';
import { Expectations } from '../../src/controllers/expectations.js';

describe('WorkQueue', () => {
  it('holds a key once and hands it out in order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('does not hand out a key being processed; re-adds it after done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    q.done(k!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('wakes a waiting get() and returns undefined after shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add('x');
    expect(await waiting).toBe('x');
    const after = q.get();
    q.shutDown();
    expect(await after).toBeUndefined();
  });
});

describe('BackoffRateLimiter', () => {
  it('doubles per failure up to the cap and resets on forget', () => {
    const l = new BackoffRateLimiter(10, 50);
    expect([l.when('k'), l.when('k'), l.when('k'), l.when('k')]).toEqual([10, 20, 40, 50]);
    l.forget('k');
    expect(l.when('k')).toBe(10);
  });
});

describe('splitKey', () => {
  it('splits namespaced and cluster-scoped keys', () => {
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('node1')).toEqual({ namespace: undefined, name: 'node1' });
  });
});

describe('ControllerLoop', () => {
  it('retries a failing reconcile with back-off until it succeeds', async () => {
    let calls = 0;
    let resolveDone: () => void;
    const finished = new Promise<void>((r) => (resolveDone = r));
    const loop = new ControllerLoop({
      name: 'test',
      listKeys: () => ['k'],
      reconcile: async () => {
        calls++;
        if (calls < 3) throw new Error('boom');
        resolveDone();
      },
    });
    loop.start();
    await finished;
    await loop.stop();
    expect(calls).toBe(3);
  });
});

describe('Expectations', () => {
  it('is satisfied once every expected creation and deletion was observed', () => {
    const e = new Expectations();
    e.expect('rs', 2, ['ns/p1']);
    expect(e.satisfied('rs')).toBe(false);
    e.creationObserved('rs');
    e.creationObserved('rs');
    expect(e.satisfied('rs')).toBe(false);
    e.deletionObserved('rs', 'ns/p1');
    expect(e.satisfied('rs')).toBe(true);
  });

  it('expires after five minutes', () => {
    let now = 0;
    const e = new Expectations(() => now);
    e.expect('rs', 1);
    now = 5 * 60 * 1000 + 1;
    expect(e.satisfied('rs')).toBe(true);
  });
});
