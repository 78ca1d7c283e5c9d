// Middlewares on a recorded context: redirects, BasicAuth (hashes checked against openssl),
// RateLimit, CircuitBreaker, IPAllowList, CORS preflight, StripPrefix/AddPrefix.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addPrefix } from '../../src/ingress/middlewares/add-prefix.js';
import { basicAuth } from '../../src/ingress/middlewares/basic-auth.js';
import { circuitBreaker, parseBreakerExpression } from '../../src/ingress/middlewares/circuit-breaker.js';
import { headers } from '../../src/ingress/middlewares/headers.js';
import { ipAllowList } from '../../src/ingress/middlewares/ip-allow-list.js';
import { rateLimit } from '../../src/ingress/middlewares/rate-limit.js';
import { redirectRegex, redirectScheme } from '../../src/ingress/middlewares/redirect.js';
import { stripPrefix } from '../../src/ingress/middlewares/strip-prefix.js';
import { UpstreamConnectError, type MiddlewareHandler, type ProxyContext } from '../../src/ingress/proxy/context.js';
import { exec } from '../../src/sys/exec.js';

interface Recorded {
  ctx: ProxyContext;
  status?: number;
  headers?: OutgoingHttpHeaders;
  forwarded: boolean;
}

function context(opts: { method?: string; headers?: Record<string, string>; path?: string; query?: string; tls?: boolean; clientIp?: string } = {}): Recorded {
  const rec = { forwarded: false } as Recorded;
  const res = {
    headersSent: false,
    statusCode: 200,
    writeHead(status: number, h: OutgoingHttpHeaders) {
      rec.status = status;
      rec.headers = h;
      this.statusCode = status;
      this.headersSent = true;
    },
    end() {},
    destroy() {},
  };
  rec.ctx = {
    req: { method: opts.method ?? 'GET', headers: { host: 'site.example', ...opts.headers } } as unknown as IncomingMessage,
    res: res as unknown as ServerResponse,
    entryPoint: 'web',
    tls: opts.tls ?? false,
    clientIp: opts.clientIp ?? '10.1.2.3',
    path: opts.path ?? '/p',
    query: opts.query ?? '',
    upstreamHeaders: { authorization: opts.headers?.authorization ?? '' },
    onResponseHeaders: [],
    retryAttempts: 0,
  };
  return rec;
}

async function run(mw: MiddlewareHandler, rec: Recorded, next: (ctx: ProxyContext) => Promise<void> = async () => undefined): Promise<Recorded> {
  await mw(rec.ctx, async (ctx) => {
    rec.forwarded = true;
    await next(ctx);
  });
  return rec;
}

describe('RedirectScheme / RedirectRegex', () => {
  it('redirects plain requests to https: 302/307, or 301/308 when permanent; https passes', async () => {
    const r1 = await run(redirectScheme({ scheme: 'https' }), context({ path: '/a', query: 'x=1', headers: { host: 'site.example:80' } }));
    expect([r1.status, r1.headers?.location, r1.forwarded]).toEqual([302, 'https://site.example/a?x=1', false]);
    expect((await run(redirectScheme({ scheme: 'https', permanent: true }), context({ method: 'POST' }))).status).toBe(308);
    expect((await run(redirectScheme({ scheme: 'https', port: '8443' }), context())).headers?.location).toBe('https://site.example:8443/p');
    expect((await run(redirectScheme({ scheme: 'https' }), context({ tls: true }))).forwarded).toBe(true);
  });

  it('RedirectRegex rewrites the full URL with Go-style ${n} groups', async () => {
    const r = await run(redirectRegex({ regex: '^http://site\\.example/(.*)', replacement: 'http://new.example/${1}', permanent: true }), context({ path: '/old/x' }));
    expect([r.status, r.headers?.location]).toEqual([301, 'http://new.example/old/x']);
    expect((await run(redirectRegex({ regex: '^https://', replacement: 'x' }), context())).forwarded).toBe(true);
  });
});

describe('BasicAuth', () => {
  it('accepts htpasswd apr1 and {SHA} hashes made by openssl, refuses wrong or missing credentials', async () => {
    const aprHash = (await exec('openssl', ['passwd', '-apr1', 's3cret'])).stdout.trim();
    const sha = (await exec('bash', ['-c', 'printf hunter2 | openssl dgst -sha1 -binary | openssl base64'])).stdout.trim();
    const mw = basicAuth({ users: [`ann:${aprHash}`, `bob:{SHA}${sha}`], headerField: 'X-User', removeHeader: true });
    const auth = (u: string, p: string) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
    const ok = await run(mw, context({ headers: auth('ann', 's3cret') }));
    expect([ok.forwarded, ok.ctx.upstreamHeaders['x-user'], ok.ctx.upstreamHeaders.authorization]).toEqual([true, 'ann', undefined]);
    expect((await run(mw, context({ headers: auth('bob', 'hunter2') }))).forwarded).toBe(true);
    const bad = await run(mw, context({ headers: auth('ann', 'wrong') }));
    expect([bad.status, bad.headers?.['www-authenticate'], bad.forwarded]).toEqual([401, 'Basic realm="traefik"', false]);
    expect((await run(mw, context())).status).toBe(401);
    expect(() => basicAuth({ users: ['x:$2y$05$abc'] })).toThrow(/not supported/);
  });
});

describe('RateLimit', () => {
  it('allows a burst, then answers 429 with Retry-After until tokens refill', async () => {
    let t = 0;
    const mw = rateLimit({ average: 2, period: '1s', burst: 2 }, () => t);
    const statuses: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await run(mw, context())).status);
    expect(statuses).toEqual([undefined, undefined, 429]);
    const limited = await run(mw, context());
    expect(limited.headers?.['retry-after']).toBe('1');
    expect((await run(mw, context({ clientIp: '10.9.9.9' }))).forwarded).toBe(true);
    t = 500;
    expect((await run(mw, context())).forwarded).toBe(true);
  });
});

describe('CircuitBreaker', () => {
  it('parses expressions over the window', () => {
    const s = (status: number, networkError = false) => ({ at: 0, status, networkError, latencyMs: 10 });
    expect(parseBreakerExpression('NetworkErrorRatio() > 0.5')([s(0, true), s(0, true), s(200)])).toBe(true);
    expect(parseBreakerExpression('ResponseCodeRatio(500, 600, 0, 600) > 0.25 && LatencyAtQuantileMS(50.0) < 5')([s(500), s(200)])).toBe(false);
    expect(parseBreakerExpression('LatencyAtQuantileMS(50.0) > 5 || NetworkErrorRatio() > 0.9')([s(200)])).toBe(true);
    expect(() => parseBreakerExpression('Nope() > 1')).toThrow(/unknown function/);
  });

  it('opens after network errors, answers 503 for fallbackDuration, then recovers', async () => {
    let t = 0;
    const mw = circuitBreaker({ expression: 'NetworkErrorRatio() > 0.5', checkPeriod: '100ms', fallbackDuration: '1s', recoveryDuration: '1ms' }, () => t);
    const failing = async () => {
      throw new UpstreamConnectError('http://x', 'ECONNREFUSED', false);
    };
    for (let i = 0; i < 3; i++) await expect(run(mw, context(), failing)).rejects.toThrow(UpstreamConnectError);
    t = 200;
    const open = await run(mw, context());
    expect([open.status, open.forwarded]).toEqual([503, false]);
    // fallback over: recovering, then (recoveryDuration later) closed again
    t = 1300;
    await run(mw, context());
    t = 1302;
    expect((await run(mw, context())).forwarded).toBe(true);
  });
});

describe('IPAllowList, Headers, StripPrefix, AddPrefix', () => {
  it('IPAllowList lets listed ranges through and answers 403 otherwise', async () => {
    const mw = ipAllowList({ sourceRange: ['10.0.0.0/8', '192.168.1.7'] });
    expect((await run(mw, context({ clientIp: '10.200.0.1' }))).forwarded).toBe(true);
    expect((await run(mw, context({ clientIp: '192.168.1.7' }))).forwarded).toBe(true);
    expect((await run(mw, context({ clientIp: '172.16.0.1' }))).status).toBe(403);
  });

  it('Headers answers a CORS preflight itself and adds the allow-origin header to others', async () => {
    const mw = headers({ accessControlAllowOriginList: ['https://app.example'], accessControlAllowMethods: ['GET', 'PUT'], accessControlMaxAge: 100 });
    const pre = await run(mw, context({ method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } }));
    expect([pre.status, pre.forwarded, pre.headers?.['access-control-allow-methods'], pre.headers?.['access-control-max-age']]).toEqual([200, false, 'GET,PUT', '100']);
    const normal = await run(mw, context({ headers: { origin: 'https://app.example' } }));
    const out: OutgoingHttpHeaders = {};
    normal.ctx.onResponseHeaders.forEach((h) => h(out));
    expect([normal.forwarded, out['access-control-allow-origin']]).toEqual([true, 'https://app.example']);
  });

  it('StripPrefix removes the first matching prefix and sets X-Forwarded-Prefix; AddPrefix prepends', async () => {
    const s = await run(stripPrefix({ prefixes: ['/nope', '/api'] }), context({ path: '/api' }));
    expect([s.ctx.path, s.ctx.upstreamHeaders['x-forwarded-prefix']]).toEqual(['/', '/api']);
    const a = await run(addPrefix({ prefix: '/v2' }), context({ path: '/users' }));
    expect(a.ctx.path).toBe('/v2/users');
  });
});
