// prometheus [ADDRESS]: the server's metrics on /metrics (plugin default localhost:9153).

import type { Directive } from '../../corefile/parse.js';
import type { Plugin, SetupContext } from '../../plugin.js';
import { httpEndpoint } from '../http-listener.js';

export function setupPrometheus(d: Directive, ctx: SetupContext): Plugin {
  const endpoint = httpEndpoint(d, d.args[0] ?? 'localhost:9153', '/metrics', (res) =>
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(ctx.env.metrics.text()),
  );
  return { name: 'prometheus', serve: (req, next) => next(req), start: () => endpoint.start(), stop: () => endpoint.stop() };
}
