// The control plane's API server: the Kubernetes REST API over a Unix socket (no authentication:
// the socket file is 0600) and optionally over TCP on loopback with a bearer token. It opens the
// store, rebuilds the Service IP/port allocations from it, creates the bootstrap objects and serves.

import { timingSafeEqual } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterConfig } from '../cluster.js';
import { unauthorized } from '../errors.js';
import { ServiceAllocator } from '../registry/service-allocation.js';
import { RESOURCES, storagePrefix, type ResourceType } from '../resources.js';
import { FileStore } from '../store/file-store.js';
import type { Service } from '../types.js';
import { bootstrap } from './bootstrap.js';
import { handle, type HandlerContext } from './handlers.js';
import { sendError, toStatus } from './http-io.js';
import { ObjectRegistry } from './object-registry.js';
import { WatchCache } from './watch-cache.js';

export interface ApiServerOptions {
  storeDir: string;
  socketPath: string;
  config: ClusterConfig;
  tcp?: { host: string; port: number; token: string };
  bookmarkIntervalMs?: number;
  watchHistory?: number;
}

export interface RunningApiServer {
  close(): Promise<void>;
  readonly tcpPort?: number;
}

const DEFAULT_WATCH_HISTORY = 10_000;
const DEFAULT_BOOKMARK_INTERVAL_MS = 10_000;

function bearerMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) return false;
  const given = Buffer.from(m[1].trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function requestListener(ctx: HandlerContext, token: string | undefined) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (token !== undefined && !bearerMatches(req, token)) {
      sendError(res, unauthorized());
      return;
    }
    handle(ctx, req, res).catch((err: unknown) => {
      if (toStatus(err).code >= 500) console.error(`kemu apiserver: ${req.method} ${req.url}:`, err);
      sendError(res, err);
    });
  };
}

function listen(server: Server, target: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const historySize = opts.watchHistory ?? DEFAULT_WATCH_HISTORY;
  const store = await FileStore.open(opts.storeDir, { historySize });
  const servers: Server[] = [];
  let cache: WatchCache | undefined;
  try {
    const allocator = new ServiceAllocator(opts.config);
    const services = RESOURCES.find((r) => r.kind === 'Service') as ResourceType;
    allocator.restore(store.list(storagePrefix(services)).items as Service[]);
    const registry = new ObjectRegistry(store, allocator, opts.config);
    await bootstrap(registry, opts.config);
    cache = new WatchCache(store, historySize);
    cache.start();
    const ctx: HandlerContext = { registry, cache, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS };

    // a socket file left by a previous run that did not shut down would make listen fail
    await rm(opts.socketPath, { force: true });
    const unix = createServer(requestListener(ctx, undefined));
    servers.push(unix);
    await listen(unix, { path: opts.socketPath });
    await chmod(opts.socketPath, 0o600);

    let tcpPort: number | undefined;
    if (opts.tcp) {
      const tcp = createServer(requestListener(ctx, opts.tcp.token));
      servers.push(tcp);
      await listen(tcp, { host: opts.tcp.host, port: opts.tcp.port });
      tcpPort = (tcp.address() as AddressInfo).port;
    }

    let closing: Promise<void> | undefined;
    const running = cache;
    return {
      tcpPort,
      close: () =>
        (closing ??= (async () => {
          running.close();
          await Promise.all(servers.map(closeServer));
          await store.close();
          await rm(opts.socketPath, { force: true });
        })()),
    };
  } catch (err) {
    cache?.close();
    await Promise.all(servers.map(closeServer));
    await store.close();
    throw err;
  }
}
