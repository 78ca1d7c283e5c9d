// A small HTTP endpoint for health, ready and prometheus: `[host]:port` from the Corefile, the
// host defaulting to all interfaces (CoreDNS binds `:8080` that way).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { argError, type Directive } from '../corefile/parse.js';
import { parseHostPort } from '../exchange.js';

export interface HttpEndpoint {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** the bound port, once started */
  port(): number;
}

export function httpEndpoint(d: Directive, address: string, path: string, handle: (res: ServerResponse, req: IncomingMessage) => void): HttpEndpoint {
  const hp = parseHostPort(address.startsWith(':') ? `0.0.0.0${address}` : address, 80);
  if (!hp) throw argError(d, `invalid address '${address}'`);
  let server: Server | undefined;
  return {
    start: () =>
      new Promise((resolve, reject) => {
        server = createServer((req, res) => {
          if (req.url?.split('?')[0] !== path) {
            res.writeHead(404).end('404 page not found\n');
            return;
          }
          handle(res, req);
        });
        server.once('error', reject);
        server.listen(hp.port, hp.host, () => resolve());
      }),
    stop: () => new Promise((resolve) => (server ? server.close(() => resolve()) : resolve())),
    port: () => (server?.address() as AddressInfo | null)?.port ?? 0,
  };
}
