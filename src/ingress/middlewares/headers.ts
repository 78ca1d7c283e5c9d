// Headers: custom request/response headers (an empty value removes the header), the common
// security headers, and CORS: a preflight (OPTIONS with Origin and Access-Control-Request-Method)
// is answered here and never reaches the backend; other requests from an allowed origin get
// Access-Control-Allow-Origin.

import type { HeadersSpec } from '../config/types.js';
import { reply, type MiddlewareHandler } from '../proxy/context.js';

export function headers(spec: HeadersSpec): MiddlewareHandler {
  const origins = spec.accessControlAllowOriginList ?? [];
  const allowedOrigin = (origin: string | undefined): string | undefined => {
    if (!origin) return undefined;
    if (origins.includes('*')) return '*';
    return origins.includes(origin) ? origin : undefined;
  };
  return async (ctx, next) => {
    const origin = allowedOrigin(ctx.req.headers.origin);
    if (origins.length && ctx.req.method === 'OPTIONS' && ctx.req.headers['access-control-request-method'] && ctx.req.headers.origin) {
      const h: Record<string, string> = {};
      if (origin) h['access-control-allow-origin'] = origin;
      if (spec.accessControlAllowMethods?.length) h['access-control-allow-methods'] = spec.accessControlAllowMethods.join(',');
      if (spec.accessControlAllowHeaders?.length) h['access-control-allow-headers'] = spec.accessControlAllowHeaders.join(',');
      if (spec.accessControlMaxAge) h['access-control-max-age'] = String(spec.accessControlMaxAge);
      reply(ctx, 200, '', h);
      return;
    }
    for (const [k, v] of Object.entries(spec.customRequestHeaders ?? {})) {
      if (v === '') delete ctx.upstreamHeaders[k.toLowerCase()];
      else ctx.upstreamHeaders[k.toLowerCase()] = v;
    }
    ctx.onResponseHeaders.push((out) => {
      if (origin) out['access-control-allow-origin'] = origin;
      if (spec.stsSeconds && ctx.tls) out['strict-transport-security'] = `max-age=${spec.stsSeconds}`;
      if (spec.frameDeny) out['x-frame-options'] = 'DENY';
      if (spec.contentTypeNosniff) out['x-content-type-options'] = 'nosniff';
      for (const [k, v] of Object.entries(spec.customResponseHeaders ?? {})) {
        if (v === '') delete out[k.toLowerCase()];
        else out[k.toLowerCase()] = v;
      }
    });
    await next(ctx);
  };
}
