// HttpClient against a scripted HTTP server: what goes on the wire (paths, headers, bodies) and how
// the client reads awkward answers (events split across chunks, ERROR events, bare error bodies).

import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { HttpClient } from '../../src/api/http-client.js';
import { RESOURCES } from '../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../src/api/types.js';

const services = RESOURCES.find((r) => r.plural === 'services')!;
const deployments = RESOURCES.find((r) => r.plural === 'deployments')!;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Script = (req: Seen, res: http.ServerResponse) => void;

let dir: string;
let socketPath: string;
let server: http.Server;
let tcpServer: http.Server;
let script: Script;
const seen: Seen[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
    seen.push(s);
    script(s, res);
  });
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const svc = (name: string, rv: string, note = ''): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', resourceVersion: rv, annotations: { note } },
});

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kemu-client-wire-'));
  socketPath = path.join(dir, 'api.sock');
  server = http.createServer(handler);
  tcpServer = http.createServer(handler);
  await new Promise<void>((r) => server.listen(socketPath, r));
  await new Promise<void>((r) => tcpServer.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  server.closeAllConnections();
  tcpServer.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => tcpServer.close(r));
  await fs.rm(dir, { recursive: true, force: true });
});

describe('HttpClient on the wire', () => {
  it('sends a merge patch with its content type to the object path', async () => {
    seen.length = 0;
    script = (_req, res) => json(res, 200, svc('web', '7'));
    const client = new HttpClient({ socketPath });
    const got = await client.patch(services, 'default', 'web', { metadata: { labels: { a: 'b' } } });
    expect(got.metadata.resourceVersion).toBe('7');
    expect(seen[0].method).toBe('PATCH');
    expect(seen[0].url).toBe('/api/v1/namespaces/default/services/web');
    expect(seen[0].headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(seen[0].body)).toEqual({ metadata: { labels: { a: 'b' } } });
    client.close();
  });

  it('puts status to the /status subresource and binds pods with a Binding', async () => {
    seen.length = 0;
    script = (req, res) => json(res, req.url.endsWith('/binding') ? 201 : 200, svc('x', '1'));
    const client = new HttpClient({ socketPath });
    await client.updateStatus(deployments, 'prod', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' }, status: { replicas: 2 } });
    await client.bindPod('default', 'web-1', 'kemu-worker');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'PUT /apis/apps/v1/namespaces/prod/deployments/api/status',
      'POST /api/v1/namespaces/default/pods/web-1/binding',
    ]);
    expect(JSON.parse(seen[1].body)).toMatchObject({ kind: 'Binding', apiVersion: 'v1', metadata: { name: 'web-1' }, target: { kind: 'Node', name: 'kemu-worker' } });
    client.close();
  });

  it('finalizes a namespace with a PUT of its spec.finalizers to /finalize', async () => {
    seen.length = 0;
    script = (_req, res) => json(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab', resourceVersion: '9' }, spec: {} });
    const client = new HttpClient({ socketPath });
    const ns = await client.finalizeNamespace('lab', ['example.com/other']);
    expect(ns.metadata.resourceVersion).toBe('9');
    expect(`${seen[0].method} ${seen[0].url}`).toBe('PUT /api/v1/namespaces/lab/finalize');
    expect(JSON.parse(seen[0].body)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab' }, spec: { finalizers: ['example.com/other'] } });
    client.close();
  });

  it('encodes list selectors and delete options', async () => {
    seen.length = 0;
    script = (_req, res) => json(res, 200, { kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '3' }, items: [] });
    const client = new HttpClient({ socketPath });
    await client.list(services, undefined, { labelSelector: 'app in (a,b),tier!=db', fieldSelector: 'metadata.name=web' });
    await client.delete(services, 'default', 'web', { gracePeriodSeconds: 0 });
    const listUrl = new URL(seen[0].url, 'http://x');
    expect(listUrl.pathname).toBe('/api/v1/services');
    expect(listUrl.searchParams.get('labelSelector')).toBe('app in (a,b),tier!=db');
    expect(listUrl.searchParams.get('fieldSelector')).toBe('metadata.name=web');
    expect(seen[1].method).toBe('DELETE');
    expect(JSON.parse(seen[1].body)).toMatchObject({ kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    client.close();
  });

  it('turns a Status answer into an ApiError carrying that Status', async () => {
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'services "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'services' }, code: 404 };
    script = (_req, res) => json(res, 404, status);
    const client = new HttpClient({ socketPath });
    const err = await client.get(services, 'default', 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toEqual(status);
    expect((err as ApiError).message).toBe('services "nope" not found');
    client.close();
  });

  it('builds an ApiError from the HTTP status when the body is not a Status', async () => {
    script = (_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('upstream down');
    };
    const client = new HttpClient({ socketPath });
    const err = (await client.get(services, 'default', 'x').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(502);
    expect(err.reason).toBe('BadGateway');
    expect(err.message).toContain('upstream down');
    client.close();
  });

  it('sends the bearer token over TCP', async () => {
    seen.length = 0;
    script = (_req, res) => json(res, 200, svc('web', '1'));
    const { port } = tcpServer.address() as AddressInfo;
    const client = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, token: 's3cret' });
    await client.get(services, 'default', 'web');
    expect(seen[0].headers.authorization).toBe('Bearer s3cret');
    client.close();
  });

  it('says the cluster is not up when the socket is missing', async () => {
    const missing = path.join(dir, 'gone.sock');
    const client = new HttpClient({ socketPath: missing });
    await expect(client.get(services, 'default', 'web')).rejects.toThrow(`the cluster's API is not reachable at ${missing} (is the cluster up?)`);
    const w = client.watch(services, undefined, {}, () => undefined);
    await expect(w.done).rejects.toThrow('is the cluster up?');
  });
});

describe('HttpClient watch stream', () => {
  it('reassembles events split across chunks, including inside a multi-byte character', async () => {
    const events = [
      { type: 'ADDED', object: svc('a', '5', 'héllo ☃') },
      { type: 'MODIFIED', object: svc('a', '6', 'ünïcode') },
      { type: 'BOOKMARK', object: { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: '9' } } },
      { type: 'DELETED', object: svc('a', '10') },
    ];
    const bytes = Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join(''));
    seen.length = 0;
    script = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // 7-byte chunks cut through JSON tokens and through the UTF-8 sequences of é, ☃, ü and ï.
      let off = 0;
      const tick = (): void => {
        if (off >= bytes.length) return void res.end();
        res.write(bytes.subarray(off, off + 7));
        off += 7;
        setImmediate(tick);
      };
      tick();
    };
    const client = new HttpClient({ socketPath });
    const got: WatchEvent[] = [];
    const w = client.watch(services, 'default', { resourceVersion: '4', allowWatchBookmarks: true, labelSelector: 'app=web' }, (e) => got.push(e));
    await w.done;
    expect(got).toEqual(events);
    const q = new URL(seen[0].url, 'http://x').searchParams;
    expect(q.get('watch')).toBe('true');
    expect(q.get('resourceVersion')).toBe('4');
    expect(q.get('allowWatchBookmarks')).toBe('true');
    expect(q.get('labelSelector')).toBe('app=web');
    client.close();
  });

  it('rejects done with the 410 ApiError of an ERROR event, after the events before it', async () => {
    const expired = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 2 (40)', reason: 'Expired', code: 410 };
    script = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: svc('b', '41') }) + '\n');
      res.end(JSON.stringify({ type: 'ERROR', object: expired }) + '\n');
    };
    const client = new HttpClient({ socketPath });
    const got: string[] = [];
    const w = client.watch(services, undefined, { resourceVersion: '2' }, (e) => got.push(`${e.type} ${e.object.metadata.name}`));
    const err = (await w.done.catch((e: unknown) => e)) as ApiError;
    expect(got).toEqual(['ADDED b']);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(410);
    expect(err.status.message).toBe('too old resource version: 2 (40)');
    client.close();
  });

  it('stop() resolves done and no event is delivered after it', async () => {
    let serverRes: http.ServerResponse | undefined;
    script = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: svc('c', '1') }) + '\n');
      serverRes = res;
    };
    const client = new HttpClient({ socketPath });
    const got: string[] = [];
    const w = client.watch(services, undefined, {}, (e) => got.push(e.object.metadata.name ?? ''));
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    w.stop();
    await expect(w.done).resolves.toBeUndefined();
    serverRes?.write(JSON.stringify({ type: 'ADDED', object: svc('d', '2') }) + '\n');
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual(['c']);
    client.close();
  });

  it('rejects done with the error of a throwing event handler and stops delivering', async () => {
    script = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end([svc('f', '1'), svc('g', '2')].map((o) => JSON.stringify({ type: 'ADDED', object: o }) + '\n').join(''));
    };
    const client = new HttpClient({ socketPath });
    const got: string[] = [];
    const w = client.watch(services, undefined, {}, (e) => {
      got.push(e.object.metadata.name ?? '');
      throw new Error('handler broke');
    });
    await expect(w.done).rejects.toThrow('handler broke');
    expect(got).toEqual(['f']);
    client.close();
  });

  it('rejects done when the server cuts the stream off', async () => {
    script = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: svc('e', '1') }) + '\n');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const client = new HttpClient({ socketPath });
    const w = client.watch(services, undefined, {}, () => undefined);
    await expect(w.done).rejects.toThrow();
    client.close();
  });
});
