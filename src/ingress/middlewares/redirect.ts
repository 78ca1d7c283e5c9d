// RedirectScheme and RedirectRegex. Status: 302 (307 for non-GET), or 301 (308) when permanent;
// the body is the status text, as Go's http.Redirect writes it for non-GET/HEAD requests.

import { STATUS_CODES } from 'node:http';
import type { RedirectRegexSpec, RedirectSchemeSpec } from '../config/types.js';
import { reply, type MiddlewareHandler, type ProxyContext } from '../proxy/context.js';

function redirectStatus(method: string | undefined, permanent: boolean | undefined): number {
  const get = method === 'GET' || method === 'HEAD';
  if (permanent) return get ? 301 : 308;
  return get ? 302 : 307;
}

function sendRedirect(ctx: ProxyContext, location: string, permanent: boolean | undefined): void {
  const status = redirectStatus(ctx.req.method, permanent);
  reply(ctx, status, STATUS_CODES[status] ?? '', { location });
}

function requestUrl(ctx: ProxyContext): string {
  const scheme = ctx.tls ? 'https' : 'http';
  return `${scheme}://${ctx.req.headers.host ?? ''}${ctx.path}${ctx.query ? `?${ctx.query}` : ''}`;
}

export function redirectScheme(spec: RedirectSchemeSpec): MiddlewareHandler {
  const scheme = spec.scheme ?? 'https';
  return async (ctx, next) => {
    const current = ctx.tls ? 'https' : 'http';
    if (current === scheme) return next(ctx);
    const hostOnly = (ctx.req.headers.host ?? '').replace(/:\d+$/, '');
    const defaultPort = (scheme === 'https' && spec.port === '443') || (scheme === 'http' && spec.port === '80');
    const port = spec.port && !defaultPort ? `:${spec.port}` : '';
    sendRedirect(ctx, `${scheme}://${hostOnly}${port}${ctx.path}${ctx.query ? `?${ctx.query}` : ''}`, spec.permanent);
  };
}

/** Go's regexp replacement syntax ($1, ${name}) -> JavaScript's ($1, $<name>). */
function jsReplacement(goReplacement: string): string {
  return goReplacement.replace(/\$\{(\w+)\}/g, (_m, name: string) => (/^\d+$/.test(name) ? `$${name}` : `$<${name}>`));
}

export function redirectRegex(spec: RedirectRegexSpec): MiddlewareHandler {
  const re = new RegExp(spec.regex);
  const replacement = jsReplacement(spec.replacement);
  return async (ctx, next) => {
    const url = requestUrl(ctx);
    if (!re.test(url)) return next(ctx);
    const target = url.replace(re, replacement);
    if (target === url) return next(ctx);
    sendRedirect(ctx, target, spec.permanent);
  };
}
