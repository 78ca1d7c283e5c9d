// Upgrade requests (WebSocket): the handshake goes to the chosen server with Connection: Upgrade
// kept; after its 101 the two sockets are spliced. A server that answers without upgrading gets
// its answer relayed as a normal response. Established tunnels do not depend on the route table,
// so configuration swaps never cut them.

import http from 'node:http';
import type { Socket } from 'node:net';
import { UpstreamConnectError, type ProxyContext } from './context.js';
import { responseHeaders } from './forwarded.js';
import { wirePath } from '../router/request-target.js';

function headBlock(statusCode: number, statusMessage: string, rawHeaders: string[]): string {
  let out = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) out += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return out + '\r\n';
}

export function forwardUpgrade(ctx: ProxyContext, serverUrl: string): Promise<void> {
  const client = ctx.upgrade!;
  const url = new URL(serverUrl);
  ctx.serviceUrl = serverUrl;
  return new Promise((resolve, reject) => {
    const upstream = http.request({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 80,
      method: ctx.req.method,
      path: wirePath(ctx.path) + (ctx.query ? `?${ctx.query}` : ''),
      headers: ctx.upstreamHeaders,
      agent: false,
    });
    upstream.once('upgrade', (res, socket: Socket, head: Buffer) => {
      ctx.originStatus = res.statusCode;
      client.socket.write(headBlock(res.statusCode ?? 101, res.statusMessage ?? 'Switching Protocols', res.rawHeaders));
      if (head.length) client.socket.write(head);
      if (client.head.length) socket.write(client.head);
      socket.pipe(client.socket);
      client.socket.pipe(socket);
      const end = (): void => {
        socket.destroy();
        client.socket.destroy();
      };
      socket.once('close', end);
      client.socket.once('close', end);
      socket.on('error', end);
      client.socket.on('error', end);
      resolve();
    });
    upstream.once('response', (res) => {
      ctx.originStatus = res.statusCode;
      const headers = responseHeaders(res.headers);
      for (const hook of ctx.onResponseHeaders) hook(headers);
      ctx.res.writeHead(res.statusCode ?? 502, headers);
      res.pipe(ctx.res);
      res.once('end', () => resolve());
      res.once('error', () => resolve());
    });
    upstream.once('error', (e: NodeJS.ErrnoException) => reject(new UpstreamConnectError(serverUrl, e.code ?? e.message, e.code === 'ETIMEDOUT')));
    upstream.end();
  });
}
