// The matcher: Traefik rule expressions, the kubernetes.io path table in spec mode, stock
// Traefik's behaviour in compat mode, host wildcards and request-target normalisation.
import { describe, expect, it } from 'vitest';
import type { HTTPIngressPath, Ingress } from '../../src/api/types.js';
import { buildDynamicConfig } from '../../src/ingress/config/build.js';
import type { Compat } from '../../src/ingress/config/types.js';
import { compileRule } from '../../src/ingress/router/matchers.js';
import { cleanPath, normalizeTarget, routingHost } from '../../src/ingress/router/request-target.js';
import { parseRule } from '../../src/ingress/router/rule.js';
import { RouteTable } from '../../src/ingress/router/table.js';
import { ourClass, routeRequest } from './ingress-harness.js';

describe('rule expressions', () => {
  const m = (rule: string, host: string, path: string, extra = {}) => compileRule(rule)(routeRequest(host, path, extra));

  it('parses precedence: && binds tighter than ||, ! and parentheses', () => {
    expect(parseRule('A(`a`) || B(`b`) && !C("c")')).toEqual({
      kind: 'or',
      left: { kind: 'call', name: 'A', args: ['a'] },
      right: { kind: 'and', left: { kind: 'call', name: 'B', args: ['b'] }, right: { kind: 'not', operand: { kind: 'call', name: 'C', args: ['c'] } } },
    });
  });

  it('evaluates Host, Path, PathPrefix, Method, Headers and combinations', () => {
    expect(m('Host(`a.example`) && PathPrefix(`/api`)', 'a.example', '/api/v1')).toBe(true);
    expect(m('Host(`a.example`) && PathPrefix(`/api`)', 'b.example', '/api/v1')).toBe(false);
    expect(m('Path(`/x`) || Path(`/y`)', 'h', '/y')).toBe(true);
    expect(m('!Path(`/x`)', 'h', '/x')).toBe(false);
    expect(m('Method(`POST`)', 'h', '/', { method: 'POST' })).toBe(true);
    expect(m('Method(`POST`)', 'h', '/', { method: 'GET' })).toBe(false);
    expect(m('Headers(`X-Env`, `prod`)', 'h', '/', { header: (n: string) => (n === 'X-Env' ? 'prod' : undefined) })).toBe(true);
    expect(m('Header(`X-Env`, `prod`)', 'h', '/')).toBe(false);
    expect(m('HostRegexp(`^[a-z]+\\.example$`)', 'abc.example', '/')).toBe(true);
    expect(m('HostRegexp(`^[a-z]+\\.example$`)', 'a1.example', '/')).toBe(false);
    expect(m('(Host(`a`) || Host(`b`)) && Path(`/p`)', 'b', '/p')).toBe(true);
    expect(m('ClientIP(`10.0.0.0/8`)', 'h', '/')).toBe(true);
    expect(m('ClientIP(`192.168.0.0/16`)', 'h', '/')).toBe(false);
  });

  it('Host wildcards cover exactly one label; Host ignores case', () => {
    expect(m('Host(`*.foo.com`)', 'bar.foo.com', '/')).toBe(true);
    expect(m('Host(`*.foo.com`)', 'baz.bar.foo.com', '/')).toBe(false);
    expect(m('Host(`*.foo.com`)', 'foo.com', '/')).toBe(false);
    expect(m('Host(`Foo.Bar.com`)', 'foo.bar.com', '/')).toBe(true);
  });

  it('rejects malformed rules and unknown functions with the position', () => {
    expect(() => compileRule('Host(`a`) &&')).toThrow(/expected name at position 12/);
    expect(() => compileRule('Host(`a)')).toThrow(/unterminated string/);
    expect(() => compileRule('Host(`a`')).toThrow(/expected \) at position 8/);
    expect(() => compileRule('Nope(`a`)')).toThrow(/unsupported function: Nope/);
    expect(() => compileRule('Path(`a`, `b`)')).toThrow(/expected 1 argument/);
  });
});

function routeWith(paths: HTTPIngressPath[], compat: Compat) {
  const ing: Ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'ns' }, spec: { rules: [{ host: 'h', http: { paths } }] } };
  const config = buildDynamicConfig({ ingresses: [ing], ingressClasses: [ourClass('kemu', true)], services: [], endpointSlices: [], secrets: [] }, { compat, defaultEntryPoints: ['web'], tlsEntryPoints: [] });
  const table = new RouteTable(config, [{ name: 'web', tls: false }]);
  return (path: string): string | undefined => {
    return table.match('web', routeRequest('h', path))?.config.origin?.service;
  };
}

const P = (path: string, name = path, pathType: HTTPIngressPath['pathType'] = 'Prefix'): HTTPIngressPath => ({ path, pathType, backend: { service: { name, port: { number: 80 } } } });

describe('kubernetes.io path table (spec mode)', () => {
  const rows: [HTTPIngressPath[], string, string | undefined][] = [
    [[P('/')], '/anything', '/'],
    [[P('/foo', 'foo', 'Exact')], '/foo', 'foo'],
    [[P('/foo', 'foo', 'Exact')], '/bar', undefined],
    [[P('/foo', 'foo', 'Exact')], '/foo/', undefined],
    [[P('/foo/', 'foo', 'Exact')], '/foo', undefined],
    [[P('/foo')], '/foo', '/foo'],
    [[P('/foo')], '/foo/', '/foo'],
    [[P('/foo/')], '/foo', '/foo/'],
    [[P('/foo/')], '/foo/', '/foo/'],
    [[P('/aaa/bb')], '/aaa/bbb', undefined],
    [[P('/aaa/bbb')], '/aaa/bbb', '/aaa/bbb'],
    [[P('/aaa/bbb/')], '/aaa/bbb', '/aaa/bbb/'],
    [[P('/aaa/bbb')], '/aaa/bbb/', '/aaa/bbb'],
    [[P('/aaa/bbb')], '/aaa/bbb/ccc', '/aaa/bbb'],
    [[P('/aaa/bbb')], '/aaa/bbbxyz', undefined],
    [[P('/'), P('/aaa')], '/aaa/ccc', '/aaa'],
    [[P('/'), P('/aaa'), P('/aaa/bbb')], '/aaa/bbb', '/aaa/bbb'],
    [[P('/'), P('/aaa'), P('/aaa/bbb')], '/ccc', '/'],
    [[P('/aaa')], '/ccc', undefined],
    [[P('/foo', 'prefix'), P('/foo', 'exact', 'Exact')], '/foo', 'exact'],
    [[P('/foo', 'exact', 'Exact'), P('/foo', 'prefix')], '/foo', 'exact'],
  ];
  for (const [paths, req, want] of rows) {
    it(`${paths.map((p) => `${p.pathType} ${p.path}`).join(', ')}: ${req} -> ${want ?? 'no match'}`, () => {
      expect(routeWith(paths, 'spec')(req)).toBe(want);
    });
  }
});

describe("compat 'traefik': stock Traefik's matching", () => {
  it('PathPrefix is a character prefix', () => {
    expect(routeWith([P('/aaa')], 'traefik')('/aaaccc')).toBe('/aaa');
  });
  it('a trailing-slash Prefix does not match the path without it', () => {
    expect(routeWith([P('/aaa/bbb/')], 'traefik')('/aaa/bbb')).toBeUndefined();
  });
  it('priority is the rule length, so Prefix outranks Exact on the same path', () => {
    expect(routeWith([P('/foo', 'prefix'), P('/foo', 'exact', 'Exact')], 'traefik')('/foo')).toBe('prefix');
  });
});

describe('request target normalisation', () => {
  it('resolves dot segments and duplicate slashes, keeps a trailing slash and the query', () => {
    expect(normalizeTarget('/a/./b/../c//d/?q=1&r')).toEqual({ ok: true, path: '/a/c/d/', query: 'q=1&r' });
    expect(cleanPath('/..')).toBe('/');
    expect(cleanPath('/a/b/..')).toBe('/a/');
  });
  it('decodes unreserved escapes but keeps reserved ones encoded', () => {
    expect(normalizeTarget('/%7Euser/a%20b/%2B')).toEqual({ ok: true, path: '/~user/a b/%2B', query: '' });
  });
  it('refuses structure-changing escapes and malformed ones', () => {
    for (const t of ['/a%2fb', '/a%5Cb', '/a%00', '/a%25', '/a%zz', '/a%e2%28', 'relative']) expect(normalizeTarget(t).ok).toBe(false);
  });
  it('takes the path of an absolute-form target', () => {
    expect(normalizeTarget('http://x.example:8080/p?x')).toEqual({ ok: true, path: '/p', query: 'x' });
  });
  it('routing host drops the port and a trailing dot, lower-cased', () => {
    expect([routingHost('Foo.Example:8080'), routingHost('foo.example.'), routingHost('[::1]:80'), routingHost(undefined)]).toEqual(['foo.example', 'foo.example', '::1', '']);
  });
});
