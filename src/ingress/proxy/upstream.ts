// Requests to one server (a Pod endpoint) over a keep-alive connection pool per server, with
// undici. Errors before any response byte become UpstreamConnectError (502, or 504 on a timeout;
// safe to retry); a client that goes away aborts the upstream request.

import type { OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import { reply, UpstreamConnectError, type ProxyContext } from './context.js';
import { responseHeaders } from './forwarded.js';
import { wirePath } from '../router/request-target.js';

const KEEP_ALIVE_MS = 90_000;
const DIAL_TIMEOUT_MS = 30_000;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  get(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, { keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS, connectTimeout: DIAL_TIMEOUT_MS, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
      this.pools.set(origin, p);
    }
    return p;
  }

  /** Closes (after their in-flight requests) the pools of servers no longer in use. */
  retain(origins: ReadonlySet<string>): void {
    for (const [origin, pool] of this.pools) {
      if (origins.has(origin)) continue;
      this.pools.delete(origin);
      void pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}

function hasBody(ctx: ProxyContext): boolean {
  return ctx.req.headers['transfer-encoding'] !== undefined || Number(ctx.req.headers['content-length'] ?? 0) > 0;
}

/** Sends the request to serverUrl and streams the answer back to the client. */
export async function forward(ctx: ProxyContext, serverUrl: string, pools: UpstreamPools): Promise<void> {
  const origin = new URL(serverUrl).origin;
  const ac = new AbortController();
  const onClientGone = (): void => {
    if (!ctx.res.writableFinished) ac.abort();
  };
  ctx.res.once('close', onClientGone);
  ctx.serviceUrl = serverUrl;
  let answer;
  try {
    answer = await pools.get(origin).request({
      path: wirePath(ctx.path) + (ctx.query ? `?${ctx.query}` : ''),
      method: ctx.req.method ?? 'GET',
      headers: ctx.upstreamHeaders as Record<string, string | string[]>,
      body: hasBody(ctx) ? ctx.req : null,
      signal: ac.signal,
    });
  } catch (e) {
    ctx.res.off('close', onClientGone);
    if (ac.signal.aborted) {
      ctx.originStatus = 499;
      return;
    }
    const code = (e as { code?: string }).code ?? (e as Error).name;
    throw new UpstreamConnectError(serverUrl, code, TIMEOUT_CODES.has(code));
  }
  ctx.originStatus = answer.statusCode;
  const headers: OutgoingHttpHeaders = responseHeaders(answer.headers);
  for (const hook of ctx.onResponseHeaders) hook(headers);
  ctx.res.writeHead(answer.statusCode, headers);
  // a streamed answer (no length: chunked, SSE) gets its head at once; chunks follow as they come
  if (headers['content-length'] === undefined) ctx.res.flushHeaders();
  try {
    await pipeline(answer.body, ctx.res);
  } catch {
    ctx.res.destroy();
  } finally {
    ctx.res.off('close', onClientGone);
  }
}

/** The proxy's own answer to a failed upstream attempt. */
export function replyUpstreamError(ctx: ProxyContext, e: UpstreamConnectError): void {
  if (e.timedOut) reply(ctx, 504, 'Gateway Timeout');
  else reply(ctx, 502, 'Bad Gateway');
}
