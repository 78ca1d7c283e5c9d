// Test harness for the API server tests: a server on a socket in a fresh temp dir, plain node:http
// requests to it, and a watch stream reader with bounded waits.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../src/api/server/apiserver.js';

// Loose JSON access in assertions.
export type Json = any;

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  body: Json;
}

export type Target = { socketPath: string } | { host: string; port: number };

export function call(target: Target, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        ...target,
        method,
        path: urlPath,
        // DELETE bodies are not chunked by node:http: the length must be given
        headers: { 'Content-Type': 'application/json', ...(payload !== undefined ? { 'Content-Length': String(Buffer.byteLength(payload)) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Json;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface WatchStream {
  events: Json[];
  /** Resolves once at least n events arrived; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs?: number): Promise<Json[]>;
  ended: Promise<void>;
  close(): void;
}

export function watch(target: Target, urlPath: string): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    const events: Json[] = [];
    const waiters: (() => void)[] = [];
    let endResolve: () => void = () => {};
    const ended = new Promise<void>((r) => (endResolve = r));
    const req = httpRequest({ ...target, method: 'GET', path: urlPath }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
        for (const w of waiters.splice(0)) w();
      });
      res.on('end', endResolve);
      res.on('close', endResolve);
      resolve({
        events,
        ended,
        close: () => req.destroy(),
        waitFor: (n, timeoutMs = 3000) =>
          new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`timed out waiting for ${n} events, got ${JSON.stringify(events)}`)), timeoutMs);
            const check = (): void => {
              if (events.length >= n) {
                clearTimeout(timer);
                ok(events.slice());
              } else waiters.push(check);
            };
            check();
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export interface TestServer {
  dir: string;
  target: { socketPath: string };
  server: RunningApiServer;
  call(method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  watch(urlPath: string): Promise<WatchStream>;
  /** Stops the server and starts it again on the same store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestServer(extra: Partial<ApiServerOptions> = {}): Promise<TestServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kemu-apiserver-'));
  const opts: ApiServerOptions = { storeDir: path.join(dir, 'store'), socketPath: path.join(dir, 'api.sock'), config: defaultClusterConfig('test'), ...extra };
  const target = { socketPath: opts.socketPath };
  const t: TestServer = {
    dir,
    target,
    server: await startApiServer(opts),
    call: (method, urlPath, body, headers) => call(target, method, urlPath, body, headers),
    watch: (urlPath) => watch(target, urlPath),
    async restart() {
      await t.server.close();
      t.server = await startApiServer(opts);
    },
    async stop() {
      await t.server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return t;
}

export function configMap(name: string, labels: Record<string, string> = {}, data: Record<string, string> = { k: 'v' }): Json {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

export function pod(name: string, extra: Json = {}): Json {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...extra.metadata }, spec: { containers: [{ name: 'c', image: 'agnhost' }], ...extra.spec } };
}

export const CM = '/api/v1/namespaces/default/configmaps';
export const PODS = '/api/v1/namespaces/default/pods';
export const SVCS = '/api/v1/namespaces/default/services';
