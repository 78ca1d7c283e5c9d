// The traefik entrypoint: the API (/api/...), /ping and /metrics on their own port.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IngressMetrics } from '../metrics.js';
import type { Runtime } from '../proxy/runtime.js';
import { middlewareView, overview, routerView, serviceView } from './views.js';

export interface ApiOptions {
  port: number;
  host: string;
  runtime(): Runtime;
  metrics: IngressMetrics;
  entryPoints(): { name: string; address: string }[];
  /** true while shutting down: /ping answers 503 */
  terminating(): boolean;
}

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function text(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function byName<T extends { name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

function handle(opts: ApiOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://api');
  const path = url.pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method Not Allowed\n');
  if (path === '/ping') return opts.terminating() ? text(res, 503, 'Service Unavailable') : text(res, 200, 'OK');
  if (path === '/metrics') return text(res, 200, opts.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
  const rt = opts.runtime();
  const search = url.searchParams.get('search') ?? '';
  const list = <T extends { name: string }>(items: readonly T[], view: (rt: Runtime, x: T) => Record<string, unknown>): void =>
    json(res, 200, byName(items).filter((x) => x.name.includes(search)).map((x) => view(rt, x)), { 'X-Next-Page': '1' });
  const one = <T extends { name: string }>(items: readonly T[], name: string, view: (rt: Runtime, x: T) => Record<string, unknown>, kind: string): void => {
    const found = items.find((x) => x.name === name);
    if (found) json(res, 200, view(rt, found));
    else json(res, 404, { message: `${kind} not found` });
  };
  const m = /^\/api\/http\/(routers|services|middlewares)(?:\/(.+))?$/.exec(path);
  if (m) {
    const name = m[2] && decodeURIComponent(m[2]);
    if (m[1] === 'routers') return name ? one(rt.config.routers, name, routerView, 'router') : list(rt.config.routers, routerView);
    if (m[1] === 'services') return name ? one(rt.config.services, name, serviceView, 'service') : list(rt.config.services, serviceView);
    return name ? one(rt.config.middlewares, name, middlewareView, 'middleware') : list(rt.config.middlewares, middlewareView);
  }
  if (path === '/api/overview') return json(res, 200, overview(rt));
  if (path === '/api/entrypoints') return json(res, 200, opts.entryPoints(), { 'X-Next-Page': '1' });
  if (path === '/api/version') return json(res, 200, { Version: 'kemu', Codename: 'emulated' });
  if (path === '/api/rawdata') {
    const entries = <T extends { name: string }>(items: readonly T[], view: (rt: Runtime, x: T) => Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(byName(items).map((x) => [x.name, view(rt, x)]));
    return json(res, 200, { routers: entries(rt.config.routers, routerView), services: entries(rt.config.services, serviceView), middlewares: entries(rt.config.middlewares, middlewareView) });
  }
  text(res, 404, '404 page not found\n');
}

export async function startApiServer(opts: ApiOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => handle(opts, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
