// AddPrefix: prepends a fixed prefix to the path before forwarding.

import type { AddPrefixSpec } from '../config/types.js';
import type { MiddlewareHandler } from '../proxy/context.js';

export function addPrefix(spec: AddPrefixSpec): MiddlewareHandler {
  const prefix = spec.prefix.startsWith('/') ? spec.prefix : `/${spec.prefix}`;
  return async (ctx, next) => {
    ctx.path = prefix.replace(/\/$/, '') + ctx.path;
    await next(ctx);
  };
}
