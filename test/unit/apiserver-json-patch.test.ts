import { describe, expect, it } from 'vitest';
import { applyJsonPatch, JsonPatchError } from '../../src/api/server/json-patch.js';

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = { a: { b: 1, 'x/y': 2, 't~n': 3 }, list: ['p', 'q'] };

  it('adds, removes and replaces by pointer, escapes included', () => {
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/a/c', value: { d: true } },
      { op: 'remove', path: '/a/x~1y' },
      { op: 'replace', path: '/a/t~0n', value: 30 },
      { op: 'add', path: '/list/1', value: 'mid' },
      { op: 'add', path: '/list/-', value: 'end' },
    ]);
    expect(out).toEqual({ a: { b: 1, 't~n': 30, c: { d: true } }, list: ['p', 'mid', 'q', 'end'] });
    expect(doc.list).toEqual(['p', 'q']);
  });

  it('moves and copies', () => {
    const out = applyJsonPatch(doc, [
      { op: 'copy', from: '/a/b', path: '/copied' },
      { op: 'move', from: '/list/0', path: '/moved' },
    ]);
    expect(out).toMatchObject({ copied: 1, moved: 'p', list: ['q'] });
  });

  it('fails the whole patch on a failed test or a missing path', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/a/b', value: 2 }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/a/zzz' }])).toThrow(/does not exist/);
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/list/5', value: 1 }])).toThrow(/out of bounds/);
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/a', value: { 't~n': 3, b: 1, 'x/y': 2 } }])).toEqual(doc);
  });

  it('tells malformed patches apart', () => {
    const malformed = (p: unknown): boolean => {
      try {
        applyJsonPatch(doc, p);
        return false;
      } catch (e) {
        return (e as JsonPatchError).malformed;
      }
    };
    expect(malformed({ op: 'add' })).toBe(true);
    expect(malformed([{ op: 'frobnicate', path: '/a' }])).toBe(true);
    expect(malformed([{ op: 'add', path: '/a/z' }])).toBe(true);
    expect(malformed([{ op: 'remove', path: '/nope' }])).toBe(false);
  });
});
