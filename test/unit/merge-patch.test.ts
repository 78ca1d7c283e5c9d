import { describe, expect, it } from 'vitest';
import { createMergePatch, mergePatch } from '../../src/api/merge-patch.js';

// RFC 7386 Appendix A: [target, patch, result]
const rfcExamples: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('mergePatch', () => {
  it.each(rfcExamples.map((c, i) => [i + 1, ...c]))('RFC 7386 appendix A example %i', (_n, target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('applies the RFC 7386 section 3 example', () => {
    const target = { title: 'Goodbye!', author: { givenName: 'John', familyName: 'Doe' }, tags: ['example', 'sample'], content: 'This will be unchanged' };
    const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
    expect(mergePatch(target, patch)).toEqual({
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    });
  });

  it('does not modify the target', () => {
    const target = { spec: { replicas: 1, selector: { app: 'web' } } };
    mergePatch(target, { spec: { replicas: 3, selector: null } });
    expect(target).toEqual({ spec: { replicas: 1, selector: { app: 'web' } } });
  });
});

describe('createMergePatch', () => {
  it('returns {} for equal documents', () => {
    expect(createMergePatch({ a: [1, { b: 2 }], c: { d: 'x' } }, { c: { d: 'x' }, a: [1, { b: 2 }] })).toEqual({});
  });

  it('holds only changed keys, null for removed ones and whole arrays', () => {
    const original = { metadata: { name: 'web', labels: { app: 'web', tier: 'fe' } }, spec: { ports: [{ port: 80 }, { port: 443 }], type: 'ClusterIP' } };
    const modified = { metadata: { name: 'web', labels: { app: 'web', env: 'prod' } }, spec: { ports: [{ port: 80 }], type: 'ClusterIP' } };
    expect(createMergePatch(original, modified)).toEqual({
      metadata: { labels: { tier: null, env: 'prod' } },
      spec: { ports: [{ port: 80 }] },
    });
  });

  it('replaces a scalar with an object and an object with a scalar', () => {
    expect(createMergePatch({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 })).toEqual({ a: { x: 1 }, b: 2 });
  });

  // A small seeded generator: same cases on every run, so a failure is reproducible.
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  function randomValue(rand: () => number, depth: number): unknown {
    const pick = Math.floor(rand() * (depth > 2 ? 4 : 6));
    switch (pick) {
      case 0: return Math.floor(rand() * 5);
      case 1: return ['x', 'y', 'z'][Math.floor(rand() * 3)];
      case 2: return rand() < 0.5;
      case 3: return [];
      case 4: return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth + 1));
      default: return randomObject(rand, depth + 1);
    }
  }

  function randomObject(rand: () => number, depth: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    for (const key of ['a', 'b', 'c', 'd']) if (rand() < 0.6) obj[key] = randomValue(rand, depth);
    return obj;
  }

  /** A variant of obj: some keys dropped, changed or added, recursing into nested objects. */
  function mutate(rand: () => number, obj: Record<string, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      const r = rand();
      const v = obj[key];
      if (r < 0.15) continue;
      if (r < 0.35) out[key] = randomValue(rand, depth);
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) out[key] = mutate(rand, v as Record<string, unknown>, depth + 1);
      else if (v !== undefined) out[key] = v;
    }
    return out;
  }

  it('round-trips: mergePatch(a, createMergePatch(a, b)) equals b on 2000 generated pairs', () => {
    const rand = rng(7386);
    let nonEmpty = 0;
    for (let i = 0; i < 2000; i++) {
      const a = randomObject(rand, 0);
      const b = rand() < 0.1 ? structuredClone(a) : mutate(rand, a, 0);
      const patch = createMergePatch(a, b);
      if (Object.keys(patch as object).length > 0) nonEmpty++;
      expect(mergePatch(a, patch)).toEqual(b);
      // Applying the patch twice changes nothing more (merge patches are idempotent).
      expect(mergePatch(mergePatch(a, patch), patch)).toEqual(b);
    }
    expect(nonEmpty).toBeGreaterThan(1000);
  });

  it('patch is minimal: keys equal in both documents never appear', () => {
    const rand = rng(42);
    for (let i = 0; i < 500; i++) {
      const a = randomObject(rand, 0);
      const b = mutate(rand, a, 0);
      const patch = createMergePatch(a, b) as Record<string, unknown>;
      for (const key of Object.keys(patch)) {
        expect(JSON.stringify(a[key]) === JSON.stringify(b[key]) && key in a && key in b).toBe(false);
      }
    }
  });
});
