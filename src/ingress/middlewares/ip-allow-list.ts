// IPAllowList: only clients whose address is in sourceRange pass; others get 403 Forbidden.

import type { IPAllowListSpec } from '../config/types.js';
import { reply, type MiddlewareHandler } from '../proxy/context.js';
import { cidrMatcher } from '../router/matchers.js';

export function ipAllowList(spec: IPAllowListSpec): MiddlewareHandler {
  const ranges = spec.sourceRange.map(cidrMatcher);
  const status = spec.rejectStatusCode ?? 403;
  return async (ctx, next) => {
    if (ranges.some((m) => m(ctx.clientIp))) return next(ctx);
    reply(ctx, status, 'Forbidden');
  };
}
