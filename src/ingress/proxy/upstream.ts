// Requests to one server (a Pod endpoint) over a keep-alive connection pool per server, with
// undici. Errors before any response byte become UpstreamConnectError (502, or 504 on a timeout;
// safe to retry); a client that goes away aborts the upstream request.

import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { reply, UpstreamConnectError, type ProxyContext } from './context.js';
import { responseHeaders } from './forwarded.js';
import { wirePath } from '../router/request-target.js';

const KEEP_ALIVE_MS = 90_000;
const DIAL_TIMEOUT_MS = 30_000;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  /** server URL -> its origin's pool: saves parsing the URL on every request */
  private readonly byUrl = new Map<string, Pool>();

  get(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, { keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS, connectTimeout: DIAL_TIMEOUT_MS, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
      this.pools.set(origin, p);
    }
    return p;
  }

  forServer(serverUrl: string): Pool {
    let p = this.byUrl.get(serverUrl);
    if (!p) {
      p = this.get(new URL(serverUrl).origin);
      this.byUrl.set(serverUrl, p);
    }
    return p;
  }

  /** Closes (after their in-flight requests) the pools of servers no longer in use. */
  retain(origins: ReadonlySet<string>): void {
    this.byUrl.clear();
    for (const [origin, pool] of this.pools) {
      if (origins.has(origin)) continue;
      this.pools.delete(origin);
      void pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    this.byUrl.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}

function hasBody(ctx: ProxyContext): boolean {
  return ctx.req.headers['transfer-encoding'] !== undefined || Number(ctx.req.headers['content-length'] ?? 0) > 0;
}

// the abort reason when the client goes away (one instance: nobody reads its stack)
const CLIENT_GONE = new Error('client went away');

/**
 * One proxied exchange on undici's dispatch interface: the answer's head and chunks go straight
 * to the client's response (pausing the upstream while the client is slow), without a body stream
 * or an AbortController per request.
 */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private answered = false;
  private clientGone = false;
  private readonly onClose = (): void => {
    if (this.ctx.res.writableFinished) return;
    this.clientGone = true;
    this.controller?.abort(CLIENT_GONE);
  };
  private readonly onDrain = (): void => this.controller?.resume();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly serverUrl: string,
    private readonly resolve: () => void,
    private readonly reject: (e: Error) => void,
  ) {
    ctx.res.once('close', this.onClose);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(CLIENT_GONE);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, upstream: IncomingHttpHeaders): void {
    const { ctx } = this;
    ctx.originStatus = statusCode;
    const headers = responseHeaders(upstream);
    if (String(headers['content-type'] ?? '').includes('text/event-stream')) ctx.eventStream = true;
    for (const hook of ctx.onResponseHeaders) hook(headers);
    // throws on a header value Node refuses: undici then reports an error before any answer (502)
    ctx.res.writeHead(statusCode, headers);
    this.answered = true;
    // a streamed answer (no length: chunked, SSE) gets its head at once; chunks follow as they come
    if (headers['content-length'] === undefined) ctx.res.flushHeaders();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.ctx.res.write(chunk)) {
      controller.pause();
      this.ctx.res.once('drain', this.onDrain);
    }
  }

  onResponseEnd(): void {
    this.ctx.res.off('close', this.onClose);
    this.ctx.res.end();
    this.resolve();
  }

  onResponseError(_controller: Dispatcher.DispatchController, e: Error): void {
    const { ctx } = this;
    ctx.res.off('close', this.onClose);
    ctx.res.off('drain', this.onDrain);
    if (this.answered) {
      ctx.res.destroy();
      this.resolve();
    } else if (this.clientGone) {
      ctx.originStatus = 499;
      this.resolve();
    } else {
      const code = (e as { code?: string }).code ?? e.name;
      this.reject(new UpstreamConnectError(this.serverUrl, code, TIMEOUT_CODES.has(code)));
    }
  }
}

/** Sends the request to serverUrl and streams the answer back to the client. */
export function forward(ctx: ProxyContext, serverUrl: string, pools: UpstreamPools): Promise<void> {
  ctx.serviceUrl = serverUrl;
  return new Promise((resolve, reject) => {
    const handler = new ForwardHandler(ctx, serverUrl, resolve, reject);
    pools.forServer(serverUrl).dispatch(
      {
        path: wirePath(ctx.path) + (ctx.query ? `?${ctx.query}` : ''),
        method: (ctx.req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: ctx.upstreamHeaders as Record<string, string | string[]>,
        body: hasBody(ctx) ? ctx.req : null,
      },
      handler,
    );
  });
}

/** The proxy's own answer to a failed upstream attempt. */
export function replyUpstreamError(ctx: ProxyContext, e: UpstreamConnectError): void {
  if (e.timedOut) reply(ctx, 504, 'Gateway Timeout');
  else reply(ctx, 502, 'Bad Gateway');
}
