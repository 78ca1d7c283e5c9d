// The load balancer: Traefik's EDF weighted round robin, sticky cookies, fenced servers, passive
// health; and SNI certificate choice.
import { describe, expect, it } from 'vitest';
import { LoadBalancer, readCookie, stickyCookieName, stickyCookieValue } from '../../src/ingress/proxy/balancer.js';
import { pickCertificate } from '../../src/ingress/proxy/certificates.js';
import { parseGoDuration } from '../../src/ingress/proxy/durations.js';

const servers = (...urls: string[]) => urls.map((url) => ({ url }));
const lb = (config: Partial<ConstructorParameters<typeof LoadBalancer>[1]>, now?: () => number) =>
  new LoadBalancer('app-web-80@kubernetes', { servers: [], strategy: 'wrr', passHostHeader: true, ...config }, now);

describe('weighted round robin', () => {
  it('rotates through equal-weight servers', () => {
    const b = lb({ servers: servers('http://a', 'http://b', 'http://c') });
    expect(Array.from({ length: 6 }, () => b.pick()!.server.url)).toEqual(['http://a', 'http://b', 'http://c', 'http://a', 'http://b', 'http://c']);
  });

  it('spreads by weight, interleaved rather than in bursts', () => {
    const b = lb({ servers: [{ url: 'http://heavy', weight: 3 }, { url: 'http://light', weight: 1 }] });
    const picks = Array.from({ length: 8 }, () => b.pick()!.server.url);
    expect(picks.filter((p) => p === 'http://heavy')).toHaveLength(6);
    expect(picks.slice(0, 4).filter((p) => p === 'http://light')).toHaveLength(1);
  });

  it('skips fenced and down servers; none left means no pick (503)', () => {
    const b = lb({ servers: [{ url: 'http://a' }, { url: 'http://b', fenced: true }] });
    expect(new Set(Array.from({ length: 4 }, () => b.pick()!.server.url))).toEqual(new Set(['http://a']));
    b.setUp('http://a', false);
    expect(b.pick()).toBeUndefined();
  });

  it('a server coming back does not get a burst of the picks it missed', () => {
    const b = lb({ servers: servers('http://a', 'http://b') });
    b.setUp('http://b', false);
    for (let i = 0; i < 10; i++) b.pick();
    b.setUp('http://b', true);
    const next = Array.from({ length: 4 }, () => b.pick()!.server.url);
    expect(next.filter((u) => u === 'http://b')).toHaveLength(2);
  });
});

describe('sticky cookies', () => {
  it("derives Traefik's default cookie name and value", () => {
    expect(stickyCookieName('app-web-80@kubernetes', undefined)).toMatch(/^_[0-9a-f]{5}$/);
    expect(stickyCookieName('x', 'my cookie;')).toBe('my_cookie_');
    expect(stickyCookieValue('http://10.0.0.1:80')).toMatch(/^[0-9a-f]{16}$/);
    expect(readCookie('a=1; lb=xyz; b=2', 'lb')).toBe('xyz');
  });

  it('pins to the cookie server, also a fenced one, and re-issues when it is gone', () => {
    const b = lb({ servers: [{ url: 'http://a' }, { url: 'http://b' }], sticky: { cookie: { name: 'lb', httpOnly: true, sameSite: 'lax', maxAge: 60 } } });
    const first = b.pick()!;
    expect(first.setCookie).toBe(`lb=${stickyCookieValue(first.server.url)}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax`);
    const cookie = `lb=${stickyCookieValue('http://b')}`;
    for (let i = 0; i < 3; i++) expect(b.pick(cookie)).toEqual({ server: { url: 'http://b' } });
    const fenced = lb({ servers: [{ url: 'http://a' }, { url: 'http://b', fenced: true }], sticky: { cookie: { name: 'lb' } } });
    expect(fenced.pick(cookie)!.server.url).toBe('http://b');
    b.setUp('http://b', false);
    const moved = b.pick(cookie)!;
    expect(moved.server.url).toBe('http://a');
    expect(moved.setCookie).toContain(`lb=${stickyCookieValue('http://a')}`);
  });
});

describe('passive health', () => {
  it('ejects a server after maxFailedAttempts within the window, and lets it back after', () => {
    let t = 0;
    const b = lb({ servers: servers('http://a', 'http://b'), passiveHealthCheck: { failureWindow: '1s', maxFailedAttempts: 2 } }, () => t);
    b.recordFailure('http://a');
    expect(b.isUp('http://a')).toBe(true);
    b.recordFailure('http://a');
    expect(b.isUp('http://a')).toBe(false);
    expect(new Set(Array.from({ length: 3 }, () => b.pick()!.server.url))).toEqual(new Set(['http://b']));
    t = 1500;
    expect(b.isUp('http://a')).toBe(true);
  });
});

describe('SNI certificate choice', () => {
  const certs = [
    { names: ['foo.bar.com'], context: 'exact' },
    { names: ['*.bar.com'], context: 'wild' },
  ];
  it('exact name first, then a one-label wildcard, else none (default)', () => {
    expect(pickCertificate(certs, 'FOO.bar.com')?.context).toBe('exact');
    expect(pickCertificate(certs, 'x.bar.com')?.context).toBe('wild');
    expect(pickCertificate(certs, 'y.x.bar.com')).toBeUndefined();
    expect(pickCertificate(certs, undefined)).toBeUndefined();
  });
});

describe('Go durations', () => {
  it('parses compound durations and refuses junk', () => {
    expect([parseGoDuration('1m30s'), parseGoDuration('250ms'), parseGoDuration('10')]).toEqual([90_000, 250, 10_000]);
    expect(() => parseGoDuration('10 s')).toThrow(/invalid duration/);
  });
});
