// What flows through a router's middleware chain to the service: the client's request and
// response, the path as routed (middlewares may rewrite it), the headers that will go upstream
// and hooks to adjust the response headers before they are written.

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface ProxyContext {
  req: IncomingMessage;
  res: ServerResponse;
  entryPoint: string;
  tls: boolean;
  clientIp: string;
  /** the normalised path (rewritten by StripPrefix / AddPrefix) and the raw query */
  path: string;
  query: string;
  /** headers for the upstream request, lower-case names */
  upstreamHeaders: OutgoingHttpHeaders;
  /** run just before the response head is written, with the headers about to be sent */
  onResponseHeaders: ((headers: OutgoingHttpHeaders) => void)[];
  /** set for a WebSocket (or other) upgrade: the client socket and its first bytes */
  upgrade?: { socket: Duplex; head: Buffer };
  retryAttempts: number;
  username?: string;
  /** filled by the service handler, for logs and metrics */
  serviceUrl?: string;
  originStatus?: number;
  /** the upstream answered with a Server-Sent Events stream (the metrics' protocol "sse") */
  eventStream?: boolean;
}

export type Next = (ctx: ProxyContext) => Promise<void>;
export type MiddlewareHandler = (ctx: ProxyContext, next: Next) => Promise<void>;

/** The proxy answers by itself (404, 401, redirects, ...). */
export function reply(ctx: ProxyContext, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  const all: OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': Buffer.byteLength(body) };
  for (const hook of ctx.onResponseHeaders) hook(all);
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  ctx.res.writeHead(status, all);
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

/** An error that happened before the upstream answered anything: safe to retry. */
export class UpstreamConnectError extends Error {
  constructor(
    readonly url: string,
    readonly code: string,
    readonly timedOut: boolean,
  ) {
    super(`${url}: ${code}`);
    this.name = 'UpstreamConnectError';
  }
}
