// Retry: re-sends the request when the attempt failed before any response arrived (a connection
// error), with exponential backoff from initialInterval. Once a server answers, whatever the
// status, nothing is retried. Requests with a body are not retried (it was already streamed).

import type { RetrySpec } from '../config/types.js';
import { UpstreamConnectError, type MiddlewareHandler, type ProxyContext } from '../proxy/context.js';
import { parseGoDuration } from '../proxy/durations.js';

export function retry(spec: RetrySpec, onRetry: (ctx: ProxyContext) => void): MiddlewareHandler {
  const initial = spec.initialInterval ? parseGoDuration(spec.initialInterval) : 100;
  return async (ctx, next) => {
    const hasBody = ctx.req.headers['transfer-encoding'] !== undefined || Number(ctx.req.headers['content-length'] ?? 0) > 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await next(ctx);
        return;
      } catch (e) {
        if (!(e instanceof UpstreamConnectError) || attempt >= spec.attempts || hasBody || ctx.res.headersSent) throw e;
        ctx.retryAttempts++;
        onRetry(ctx);
        const wait = Math.min(initial * 2 ** (attempt - 1), initial * 2);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };
}
