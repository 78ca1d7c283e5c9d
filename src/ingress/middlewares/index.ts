// A middleware configuration -> its handler. Every router builds its own instances, so stateful
// middlewares (RateLimit, CircuitBreaker) are per router, as in Traefik.

import type { MiddlewareConfig } from '../config/types.js';
import type { MiddlewareHandler, ProxyContext } from '../proxy/context.js';
import { addPrefix } from './add-prefix.js';
import { basicAuth } from './basic-auth.js';
import { circuitBreaker } from './circuit-breaker.js';
import { headers } from './headers.js';
import { ipAllowList } from './ip-allow-list.js';
import { rateLimit } from './rate-limit.js';
import { redirectRegex, redirectScheme } from './redirect.js';
import { retry } from './retry.js';
import { stripPrefix } from './strip-prefix.js';

export interface MiddlewareHooks {
  onRetry(ctx: ProxyContext): void;
}

/** The type name the API shows (lower-case, as Traefik's middleware info). */
export function middlewareType(m: MiddlewareConfig): string {
  return Object.keys(m.spec).find((k) => m.spec[k as keyof typeof m.spec] !== undefined)?.toLowerCase() ?? 'unknown';
}

export function buildMiddleware(m: MiddlewareConfig, hooks: MiddlewareHooks): MiddlewareHandler {
  const s = m.spec;
  if (s.stripPrefix) return stripPrefix(s.stripPrefix);
  if (s.addPrefix) return addPrefix(s.addPrefix);
  if (s.redirectScheme) return redirectScheme(s.redirectScheme);
  if (s.redirectRegex) return redirectRegex(s.redirectRegex);
  if (s.headers) return headers(s.headers);
  if (s.basicAuth) return basicAuth(s.basicAuth);
  if (s.rateLimit) return rateLimit(s.rateLimit);
  if (s.retry) return retry(s.retry, hooks.onRetry);
  if (s.circuitBreaker) return circuitBreaker(s.circuitBreaker);
  if (s.ipAllowList) return ipAllowList(s.ipAllowList);
  throw new Error(`middleware ${m.name}: no known middleware type in its spec`);
}
