// ready [ADDRESS]: 200 OK on /ready once every plugin that reports readiness is ready, else 503
// with the names of those that are not.

import type { Directive } from '../../corefile/parse.js';
import type { Plugin, SetupContext } from '../../plugin.js';
import { httpEndpoint } from '../http-listener.js';

export function setupReady(d: Directive, _ctx: SetupContext, all: () => Plugin[]): Plugin {
  const endpoint = httpEndpoint(d, d.args[0] ?? ':8181', '/ready', (res) => {
    const notReady = all().filter((p) => p.ready && !p.ready()).map((p) => p.name);
    if (notReady.length === 0) res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end(notReady.sort().join(', '));
  });
  return { name: 'ready', serve: (req, next) => next(req), start: () => endpoint.start(), stop: () => endpoint.stop() };
}
