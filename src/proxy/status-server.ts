// kube-proxy's two HTTP endpoints: metrics (default 0.0.0.0:10249, /metrics) and health (default
// 0.0.0.0:10256, /healthz and /livez). In the process's own namespace they listen on TCP directly;
// for a node namespace they are served on Unix sockets that a forwarder inside the node exposes.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forwardTcpToUnix, type TcpForwarder } from '../sys/netns-forward.js';
import type { Netns } from '../sys/netns.js';

export type Respond = (path: string) => { status: number; contentType: string; body: string } | undefined;

export interface StatusServer {
  stop(): Promise<void>;
}

function handler(respond: Respond) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const answer = req.method === 'GET' || req.method === 'HEAD' ? respond(url.pathname) : undefined;
    if (answer === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
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

/** Serves respond() on 0.0.0.0:port of netns (or of this process's namespace when undefined). */
export async function startStatusServer(netns: Netns | undefined, port: number, respond: Respond): Promise<StatusServer> {
  const server = createServer(handler(respond));
  let forwarder: TcpForwarder | undefined;
  let dir: string | undefined;
  try {
    if (netns === undefined) {
      await listen(server, { host: '0.0.0.0', port });
    } else {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-kube-proxy-'));
      const socketPath = path.join(dir, `${port}.sock`);
      await listen(server, { path: socketPath });
      forwarder = await forwardTcpToUnix(netns, '0.0.0.0', port, socketPath);
    }
  } catch (e) {
    server.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    stop: async () => {
      await forwarder?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
