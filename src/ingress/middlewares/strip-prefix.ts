// StripPrefix: the first prefix that string-prefixes the path is removed (the result always starts
// with '/'), and X-Forwarded-Prefix tells the backend what was removed.

import type { StripPrefixSpec } from '../config/types.js';
import type { MiddlewareHandler } from '../proxy/context.js';

export function stripPrefix(spec: StripPrefixSpec): MiddlewareHandler {
  return async (ctx, next) => {
    const prefix = spec.prefixes.find((p) => ctx.path.startsWith(p));
    if (prefix !== undefined) {
      const rest = ctx.path.slice(prefix.length);
      ctx.path = rest.startsWith('/') ? rest : `/${rest}`;
      ctx.upstreamHeaders['x-forwarded-prefix'] = prefix;
    }
    await next(ctx);
  };
}
