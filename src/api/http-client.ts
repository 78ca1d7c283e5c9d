// The Client over HTTP: to the cluster's Unix socket (no auth, as a local kubeconfig-less admin) or
// to a TCP base URL with a bearer token. One keep-alive agent per client so that controllers
// doing many small writes reuse their connections.

import http from 'node:http';
import https from 'node:https';
import { clusterPaths } from './cluster.js';
import type { Client, DeleteOptions, ListOptions, WatchHandle, WatchOptions } from './client.js';
import { ApiError } from './errors.js';
import { RESOURCES, resourcePath, type ResourceType } from './resources.js';
import type { KubeObject, Namespace, ObjectList, Status, WatchEvent } from './types.js';

export type HttpClientTarget = { socketPath: string } | { baseUrl: string; token: string };

const MERGE_PATCH = 'application/merge-patch+json';
const NAMESPACES = RESOURCES.find((r) => r.kind === 'Namespace') as ResourceType;

function isStatus(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status' && typeof (v as { code?: unknown }).code === 'number';
}

/** The ApiError for a non-2xx answer; a body that is not a Status gets one built from the HTTP status. */
function errorFromResponse(statusCode: number, body: unknown): ApiError {
  if (isStatus(body)) return new ApiError(body);
  const text = typeof body === 'string' && body !== '' ? body : http.STATUS_CODES[statusCode] ?? 'unknown error';
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the server responded with status ${statusCode}: ${text}`,
    reason: (http.STATUS_CODES[statusCode] ?? 'Unknown').replace(/\s+/g, ''),
    code: statusCode,
  });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function withQuery(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

function objectName(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${obj.kind ?? 'object'} has no metadata.name`);
  return name;
}

export class HttpClient implements Client {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly base: { socketPath: string } | { url: URL; token: string };

  constructor(target: HttpClientTarget) {
    if ('socketPath' in target) {
      this.base = { socketPath: target.socketPath };
      this.transport = http;
    } else {
      const url = new URL(target.baseUrl);
      this.base = { url, token: target.token };
      this.transport = url.protocol === 'https:' ? https : http;
    }
    this.agent = new this.transport.Agent({ keepAlive: true });
  }

  /** Where requests go, for error messages. */
  get endpoint(): string {
    return 'socketPath' in this.base ? this.base.socketPath : this.base.url.origin;
  }

  /** Closes idle keep-alive connections; the client stays usable. */
  close(): void {
    this.agent.destroy();
  }

  async get<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return (await this.call('GET', resourcePath(r, namespace, name))) as T;
  }

  async list<T extends KubeObject>(r: ResourceType, namespace?: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const path = withQuery(resourcePath(r, namespace), { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
    return (await this.call('GET', path)) as ObjectList<T>;
  }

  async create<T extends KubeObject>(r: ResourceType, namespace: string | undefined, obj: T): Promise<T> {
    return (await this.call('POST', resourcePath(r, namespace ?? obj.metadata?.namespace), obj)) as T;
  }

  async update<T extends KubeObject>(r: ResourceType, namespace: string | undefined, obj: T): Promise<T> {
    return (await this.call('PUT', resourcePath(r, namespace ?? obj.metadata?.namespace, objectName(obj)), obj)) as T;
  }

  async updateStatus<T extends KubeObject>(r: ResourceType, namespace: string | undefined, obj: T): Promise<T> {
    return (await this.call('PUT', `${resourcePath(r, namespace ?? obj.metadata?.namespace, objectName(obj))}/status`, obj)) as T;
  }

  async patch<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string, patch: unknown): Promise<T> {
    return (await this.call('PATCH', resourcePath(r, namespace, name), patch, MERGE_PATCH)) as T;
  }

  async patchStatus<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string, patch: unknown): Promise<T> {
    return (await this.call('PATCH', `${resourcePath(r, namespace, name)}/status`, patch, MERGE_PATCH)) as T;
  }

  async delete(r: ResourceType, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KubeObject | Status> {
    const body = opts ? { kind: 'DeleteOptions', apiVersion: 'v1', ...opts } : undefined;
    return (await this.call('DELETE', resourcePath(r, namespace, name), body)) as KubeObject | Status;
  }

  async bindPod(namespace: string, name: string, nodeName: string): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/binding`;
    const binding = { kind: 'Binding', apiVersion: 'v1', metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    await this.call('POST', path, binding);
  }

  async finalizeNamespace(name: string, finalizers: string[]): Promise<Namespace> {
    const body: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers } };
    return (await this.call('PUT', `${resourcePath(NAMESPACES, undefined, name)}/finalize`, body)) as Namespace;
  }

  /** GET a path outside the resource space (/version, /api, /healthz, ...). */
  async raw(path: string): Promise<unknown> {
    return this.call('GET', path);
  }

  watch<T extends KubeObject>(r: ResourceType, namespace: string | undefined, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle {
    const path = withQuery(resourcePath(r, namespace), {
      watch: 'true',
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: opts.timeoutSeconds !== undefined ? String(opts.timeoutSeconds) : undefined,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    });
    let stopped = false;
    let settle: (err?: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      let req: http.ClientRequest | undefined = undefined;
      settle = (err?: Error): void => {
        if (stopped) return;
        stopped = true;
        req?.destroy();
        if (err) reject(err);
        else resolve();
      };
      req = this.send('GET', path, undefined, undefined, (res) => {
        const statusCode = res.statusCode ?? 0;
        res.setEncoding('utf8');
        if (statusCode < 200 || statusCode > 299) {
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => settle(errorFromResponse(statusCode, parseBody(text))));
          res.on('error', (e) => settle(e));
          return;
        }
        const lines = new LineSplitter((line) => {
          if (stopped) return;
          const event = parseWatchLine<T>(line);
          if (event instanceof Error) return settle(event);
          if (!event) return;
          try {
            onEvent(event);
          } catch (e) {
            // A failing consumer ends its watch; done carries the error instead of it escaping the socket.
            settle(e instanceof Error ? e : new Error(String(e)));
          }
        });
        res.on('data', (chunk: string) => lines.push(chunk));
        res.on('end', () => {
          lines.flush();
          settle();
        });
        res.on('error', (e) => settle(e));
        // 'close' without 'end': the server went away mid-stream.
        res.on('close', () => settle(res.complete ? undefined : new Error(`watch of ${r.plural} was cut off by ${this.endpoint}`)));
      }, (e) => settle(e));
    });
    return { stop: () => settle(), done };
  }

  /** One request/response round trip; resolves with the parsed body of a 2xx answer. */
  private call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      this.send(method, path, body, contentType, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          const statusCode = res.statusCode ?? 0;
          const parsed = parseBody(text);
          if (statusCode >= 200 && statusCode <= 299) resolve(parsed);
          else reject(errorFromResponse(statusCode, parsed));
        });
      }, reject);
    });
  }

  private send(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    onResponse: (res: http.IncomingMessage) => void,
    onError: (e: Error) => void,
  ): http.ClientRequest {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const options: http.RequestOptions = { method, path, headers, agent: this.agent };
    if ('socketPath' in this.base) {
      options.socketPath = this.base.socketPath;
    } else {
      const { url, token } = this.base;
      options.protocol = url.protocol;
      options.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
      options.port = url.port;
      options.path = `${url.pathname.replace(/\/$/, '')}${path}`;
      headers.Authorization = `Bearer ${token}`;
    }
    const req = this.transport.request(options, onResponse);
    req.on('error', (e) => onError(this.transportError(e)));
    req.end(payload);
    return req;
  }

  private transportError(e: Error): Error {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      return new Error(`the cluster's API is not reachable at ${this.endpoint} (is the cluster up?)`, { cause: e });
    }
    return e;
  }
}

/** Splits a text stream into lines; a line may arrive across several chunks. */
class LineSplitter {
  private buffer = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.buffer + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.trim() !== '') this.onLine(line);
    }
    this.buffer = text.slice(start);
  }

  /** The last line when the stream ended without a newline. */
  flush(): void {
    const rest = this.buffer;
    this.buffer = '';
    if (rest.trim() !== '') this.onLine(rest);
  }
}

/** One watch event, an Error for an ERROR event or a line that is not an event. */
function parseWatchLine<T extends KubeObject>(line: string): WatchEvent<T> | Error | undefined {
  let event: { type?: unknown; object?: unknown };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    return new Error(`watch stream sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  if (event.type === 'ERROR') {
    return isStatus(event.object) ? new ApiError(event.object) : errorFromResponse(500, JSON.stringify(event.object));
  }
  if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED' || event.type === 'BOOKMARK') {
    return { type: event.type, object: event.object as T };
  }
  return undefined;
}

/** A client for a cluster on this host, over its API socket in the state directory. */
export function clientForCluster(cluster: string): HttpClient {
  return new HttpClient({ socketPath: clusterPaths(cluster).apiSocket });
}
