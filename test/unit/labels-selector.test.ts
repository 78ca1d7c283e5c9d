import { describe, expect, it } from 'vitest';
import { formatLabelSelector, matchesSelector, parseSelector, selectorFromLabelSelector } from '../../src/api/labels.js';

describe('parseSelector', () => {
  it('gives no requirements for an empty or blank string', () => {
    expect(parseSelector('')).toEqual([]);
    expect(parseSelector('   ')).toEqual([]);
  });

  it('parses every operator form and sorts by key', () => {
    expect(parseSelector('z=1,y==2,x!=3,w in (b,a),v notin (c),u,!t')).toEqual([
      { key: 't', operator: 'DoesNotExist', values: [] },
      { key: 'u', operator: 'Exists', values: [] },
      { key: 'v', operator: 'NotIn', values: ['c'] },
      { key: 'w', operator: 'In', values: ['a', 'b'] },
      { key: 'x', operator: 'NotEquals', values: ['3'] },
      { key: 'y', operator: 'Equals', values: ['2'] },
      { key: 'z', operator: 'Equals', values: ['1'] },
    ]);
  });

  it('accepts whitespace around operators and prefixed keys', () => {
    expect(parseSelector(' app.kubernetes.io/name = web , tier in ( a , b ) ')).toEqual([
      { key: 'app.kubernetes.io/name', operator: 'Equals', values: ['web'] },
      { key: 'tier', operator: 'In', values: ['a', 'b'] },
    ]);
  });

  it('treats in/notin as plain words where a key or value is expected', () => {
    expect(parseSelector('in=notin')).toEqual([{ key: 'in', operator: 'Equals', values: ['notin'] }]);
  });

  it('takes a missing value after = as the empty value', () => {
    expect(parseSelector('a=')).toEqual([{ key: 'a', operator: 'Equals', values: [''] }]);
    expect(parseSelector('a in ()')).toEqual([{ key: 'a', operator: 'In', values: [''] }]);
    expect(parseSelector('a in (,b)')).toEqual([{ key: 'a', operator: 'In', values: ['', 'b'] }]);
  });

  it('rejects bad syntax with apimachinery wording', () => {
    expect(() => parseSelector('a in b')).toThrow("unable to parse requirement: found 'b' expected: '('");
    expect(() => parseSelector('a b')).toThrow('unable to parse requirement: found \'b\', expected: in, notin, =, ==, !=, gt, lt');
    expect(() => parseSelector('a in (x y)')).toThrow("unable to parse requirement: found 'y', expected: ',' or ')'");
    expect(() => parseSelector('a=b,')).toThrow("found '', expected: identifier after ','");
    expect(() => parseSelector(',a')).toThrow("found ',', expected: !, identifier, or 'end of string'");
    expect(() => parseSelector('!a=b')).toThrow("found '=', expected: ',' or 'end of string'");
    expect(() => parseSelector('a=b=c')).toThrow("found '=', expected: ',' or 'end of string'");
  });

  it('rejects an invalid key or value', () => {
    expect(() => parseSelector('a/b/c=d')).toThrow(/^unable to parse requirement: <nil>: Invalid value: "a\/b\/c": a qualified name must consist of/);
    expect(() => parseSelector('a=-x')).toThrow(
      /^unable to parse requirement: values\[0\]\[a\]: Invalid value: "-x": a valid label must be an empty string/,
    );
  });
});

describe('matchesSelector', () => {
  const labels = { app: 'web', tier: 'front' };

  it('matches everything with no requirements, also absent labels', () => {
    expect(matchesSelector(labels, [])).toBe(true);
    expect(matchesSelector(undefined, [])).toBe(true);
  });

  it('applies equality and set operators', () => {
    expect(matchesSelector(labels, parseSelector('app=web'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('app=db'))).toBe(false);
    expect(matchesSelector(labels, parseSelector('app!=db'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('tier in (back,front)'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('tier notin (front)'))).toBe(false);
    expect(matchesSelector(labels, parseSelector('app,!canary'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('canary'))).toBe(false);
  });

  it('lets negative operators match objects without the label', () => {
    expect(matchesSelector({}, parseSelector('app!=web'))).toBe(true);
    expect(matchesSelector({}, parseSelector('app notin (web)'))).toBe(true);
    expect(matchesSelector({}, parseSelector('app in (web)'))).toBe(false);
  });

  it('requires every requirement', () => {
    expect(matchesSelector(labels, parseSelector('app=web,tier=back'))).toBe(false);
  });
});

describe('selectorFromLabelSelector', () => {
  it('combines matchLabels and matchExpressions', () => {
    const reqs = selectorFromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }],
    });
    expect(reqs).toEqual([
      { key: 'app', operator: 'Equals', values: ['web'] },
      { key: 'env', operator: 'NotIn', values: ['dev'] },
    ]);
    expect(matchesSelector({ app: 'web', env: 'prod' }, reqs)).toBe(true);
    expect(matchesSelector({ app: 'web', env: 'dev' }, reqs)).toBe(false);
  });

  it('rejects unknown operators and empty In sets', () => {
    const bad = { matchExpressions: [{ key: 'a', operator: 'Gt' as 'In', values: ['1'] }] };
    expect(() => selectorFromLabelSelector(bad)).toThrow('"Gt" is not a valid label selector operator');
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(
      "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    );
  });
});

describe('formatLabelSelector', () => {
  it('prints as kubectl does, sorted by key with sorted set values', () => {
    expect(
      formatLabelSelector({
        matchLabels: { tier: 'web', app: 'shop' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'canary'] },
          { key: 'old', operator: 'DoesNotExist' },
          { key: 'zone', operator: 'Exists' },
          { key: 'x', operator: 'NotIn', values: ['1'] },
        ],
      }),
    ).toBe('app=shop,env in (canary,prod),!old,tier=web,x notin (1),zone');
  });

  it('gives an empty string for no selector and <error> for an invalid one', () => {
    expect(formatLabelSelector(undefined)).toBe('');
    expect(formatLabelSelector({})).toBe('');
    expect(formatLabelSelector({ matchLabels: { 'a b': 'c' } })).toBe('<error>');
  });
});
