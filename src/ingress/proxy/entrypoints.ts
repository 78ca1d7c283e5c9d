// The entrypoints: a plain HTTP listener (web) and a TLS one (websecure, certificate by SNI).
// Each request is refused early when it is malformed (Node's parser answers conflicting
// Content-Length/Transfer-Encoding, bad header syntax, oversized headers and slow clients; the
// path is normalised here), then routed on the current runtime, run through its router's chain,
// counted in the metrics and written to the access log.

import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { accessLogRecord } from '../access-log.js';
import type { RouterConfig } from '../config/types.js';
import type { IngressMetrics } from '../metrics.js';
import type { RouteRequest } from '../router/matchers.js';
import { routingHost, normalizeTarget } from '../router/request-target.js';
import type { CertificateStore } from './certificates.js';
import { reply, UpstreamConnectError, type ProxyContext } from './context.js';
import { forwardedHeaders, isWebSocketUpgrade } from './forwarded.js';
import type { Runtime } from './runtime.js';
import { replyUpstreamError } from './upstream.js';

export interface EntryPointTimeouts {
  /** time to receive the complete request head (slow headers -> 408) */
  headersMs: number;
  /** time to receive the whole request, body included (slow body -> 408) */
  requestMs: number;
  /** idle keep-alive connections are closed after this */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: EntryPointTimeouts = { headersMs: 60_000, requestMs: 60_000, idleMs: 180_000 };

export interface EntryPointOptions {
  name: string;
  port: number;
  host: string;
  tls?: { store: CertificateStore; defaultCert: { certPem: string; keyPem: string } };
  timeouts: EntryPointTimeouts;
  /** request head limit in bytes (over it: 431) */
  maxHeaderSize: number;
  /** the `Server` header added to responses that have none; undefined = none (stock Traefik) */
  serverHeader?: string;
  /** X-Forwarded-Server */
  hostname: string;
  runtime(): Runtime;
  metrics: IngressMetrics;
  accessLog?: (record: Record<string, unknown>) => void;
  onError(message: string): void;
}

type TlsInfo = { version: string; cipher: string };

/** What every request on one client connection shares: its peer address and, on TLS, the session. */
interface ConnectionInfo {
  ip: string;
  port: number;
  tls: TlsInfo | undefined;
}

// filled on a connection's first request (the TLS handshake is over by then)
const connectionInfos = new WeakMap<Socket, ConnectionInfo>();

function connectionInfo(socket: Socket, tls: boolean): ConnectionInfo {
  let info = connectionInfos.get(socket);
  if (!info) {
    let ip = socket.remoteAddress ?? '';
    if (ip.startsWith('::ffff:')) ip = ip.slice(7);
    const zone = ip.indexOf('%');
    if (zone >= 0) ip = ip.slice(0, zone);
    const session = tls ? { version: (socket as TLSSocket).getProtocol() ?? '', cipher: (socket as TLSSocket).getCipher()?.name ?? '' } : undefined;
    info = { ip, port: socket.remotePort ?? 0, tls: session };
    connectionInfos.set(socket, info);
  }
  return info;
}

const CLIENT_ERROR_STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADERS_TIMEOUT: '408 Request Timeout',
};

export class EntryPoint {
  private readonly server: http.Server;
  /** requests not finished yet (stop() waits for them) */
  private inFlight = 0;
  /** every client connection, upgraded tunnels included (the HTTP server forgets those) */
  private readonly sockets = new Set<Socket>();
  /** adds the configured `Server` header to responses that have none */
  private readonly serverHeaderHook: ((headers: OutgoingHttpHeaders) => void) | undefined;
  port = 0;

  constructor(private readonly opts: EntryPointOptions) {
    const serverHeader = opts.serverHeader;
    this.serverHeaderHook = serverHeader
      ? (h) => {
          h.server ??= serverHeader;
        }
      : undefined;
    const common: http.ServerOptions = {
      headersTimeout: opts.timeouts.headersMs,
      requestTimeout: opts.timeouts.requestMs,
      keepAliveTimeout: opts.timeouts.idleMs,
      maxHeaderSize: opts.maxHeaderSize,
      requireHostHeader: true,
      // how often Node looks for clients past their header/request deadline (default 30 s)
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(opts.timeouts.headersMs / 2))),
    };
    this.server = opts.tls
      ? https.createServer({ ...common, cert: opts.tls.defaultCert.certPem, key: opts.tls.defaultCert.keyPem, SNICallback: (name, cb) => cb(null, opts.tls!.store.contextFor(name)) })
      : http.createServer(common);
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const res = new http.ServerResponse(req);
      res.assignSocket(socket as Socket);
      // a finished response means the upgrade was answered without a tunnel
      res.once('finish', () => socket.end());
      void this.handle(req, res, { socket, head });
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable || (socket as Socket).bytesWritten > 0) {
        socket.destroy();
        return;
      }
      const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`);
    });
    const gauge = { entrypoint: opts.name, protocol: 'http' };
    let open = 0;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      opts.metrics.openConnections.set(gauge, ++open);
      socket.once('close', () => {
        this.sockets.delete(socket);
        opts.metrics.openConnections.set(gauge, --open);
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting, lets requests in flight finish (up to graceMs), then closes everything. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    const started = performance.now();
    const startDate = this.opts.accessLog ? new Date() : undefined;
    const runtime = this.opts.runtime();
    const socket = req.socket;
    const client = connectionInfo(socket, this.opts.tls !== undefined);
    const tls = client.tls;
    const bytesBefore = socket.bytesWritten;
    this.inFlight++;
    const target = normalizeTarget(req.url ?? '/');
    const ctx: ProxyContext = {
      req,
      res,
      entryPoint: this.opts.name,
      tls: tls !== undefined,
      clientIp: client.ip,
      path: target.ok ? target.path : '/',
      query: target.ok ? target.query : '',
      upstreamHeaders: forwardedHeaders({ headers: req.headers, clientIp: client.ip, tls: tls !== undefined, serverName: this.opts.hostname, trusted: false }),
      onResponseHeaders: this.serverHeaderHook ? [this.serverHeaderHook] : [],
      retryAttempts: 0,
      upgrade,
    };
    let router: RouterConfig | undefined;
    try {
      if (!target.ok) {
        reply(ctx, 400, `400 Bad Request: ${target.reason}\n`);
      } else {
        router = runtime.table.match(this.opts.name, new RequestView(req, target.path, target.query, client.ip))?.config;
        const chain = router ? runtime.handlerFor(router) : undefined;
        if (!router || !chain) {
          reply(ctx, 404, '404 page not found\n');
        } else {
          if (!runtime.passesHostHeader(router.service)) delete ctx.upstreamHeaders.host;
          await chain(ctx);
        }
      }
    } catch (e) {
      if (e instanceof UpstreamConnectError) {
        this.opts.onError(`'${e.code}' caused by: ${e.url}`);
        replyUpstreamError(ctx, e);
      } else {
        this.opts.onError(`request ${req.method} ${req.url}: ${(e as Error).message}`);
        reply(ctx, 500, 'Internal Server Error');
      }
    }
    const done = (): void => {
      this.inFlight--;
      const seconds = (performance.now() - started) / 1000;
      const status = ctx.originStatus === 499 ? 499 : res.statusCode;
      const requestBytes = Number(req.headers['content-length'] ?? 0) || 0;
      const responseBytes = Math.max(0, socket.bytesWritten - bytesBefore);
      const protocol = upgrade && isWebSocketUpgrade(req.headers) ? 'websocket' : ctx.eventStream ? 'sse' : 'http';
      const method = req.method ?? 'GET';
      this.opts.metrics.observe({ entryPoint: this.opts.name, service: router?.service, code: status, method, protocol, seconds, tls, requestBytes, responseBytes });
      if (!this.opts.accessLog || !startDate) return;
      this.opts.accessLog(
        accessLogRecord({
          start: startDate,
          durationNs: Math.round(seconds * 1e9),
          ...(router ? { router } : {}),
          ...(ctx.serviceUrl ? { serviceUrl: ctx.serviceUrl } : {}),
          clientAddr: `${client.ip}:${client.port}`,
          clientIp: client.ip,
          clientPort: client.port,
          ...(ctx.username ? { username: ctx.username } : {}),
          host: req.headers.host ?? '',
          method,
          path: req.url ?? '/',
          protocol: `HTTP/${req.httpVersion}`,
          scheme: this.opts.tls ? 'https' : 'http',
          requestBytes,
          originStatus: ctx.originStatus ?? 0,
          downstreamStatus: status,
          downstreamBytes: responseBytes,
          retryAttempts: ctx.retryAttempts,
          entryPoint: this.opts.name,
          ...(tls ? { tls } : {}),
        }),
      );
    };
    // a client that went away mid-request has closed its response already (499)
    if (res.writableFinished || res.destroyed || upgrade) done();
    else res.once('close', done);
  }
}

/** What the route table matches on; the query is parsed only when a rule asks for it. */
class RequestView implements RouteRequest {
  readonly host: string;
  readonly method: string;
  private parsedQuery: URLSearchParams | undefined;

  constructor(
    private readonly req: IncomingMessage,
    readonly path: string,
    private readonly rawQuery: string,
    readonly clientIp: string,
  ) {
    this.host = routingHost(req.headers.host);
    this.method = req.method ?? 'GET';
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(',') : v;
  }

  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.rawQuery));
  }
}
