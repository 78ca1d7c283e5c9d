// RateLimit: a token bucket per client IP, refilled at average/period, holding at most burst
// tokens. Over the limit: 429 with Retry-After (whole seconds, rounded up) and X-Retry-In.

import type { RateLimitSpec } from '../config/types.js';
import { reply, type MiddlewareHandler } from '../proxy/context.js';
import { parseGoDuration } from '../proxy/durations.js';

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_SOURCES = 65_536;

export function rateLimit(spec: RateLimitSpec, now: () => number = Date.now): MiddlewareHandler {
  const periodMs = parseGoDuration(spec.period ?? '1s');
  const perMs = spec.average / periodMs;
  const burst = Math.max(1, spec.burst ?? 1);
  const buckets = new Map<string, Bucket>();
  return async (ctx, next) => {
    if (spec.average <= 0) return next(ctx);
    const t = now();
    const b = buckets.get(ctx.clientIp) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
    b.at = t;
    if (buckets.size >= MAX_SOURCES && !buckets.has(ctx.clientIp)) buckets.clear();
    buckets.set(ctx.clientIp, b);
    if (b.tokens < 1) {
      const waitMs = (1 - b.tokens) / perMs;
      reply(ctx, 429, 'Too Many Requests', { 'retry-after': String(Math.ceil(waitMs / 1000)), 'x-retry-in': `${Math.ceil(waitMs)}ms` });
      return;
    }
    b.tokens -= 1;
    await next(ctx);
  };
}
