// health [ADDRESS] { lameduck DURATION }: 200 OK on /health for as long as the process is up;
// lameduck keeps serving for DURATION after shutdown starts (not on a reload).

import { argError, type Directive } from '../../corefile/parse.js';
import type { Plugin } from '../../plugin.js';
import { parseDuration } from '../forward/setup.js';
import { httpEndpoint } from '../http-listener.js';

export function setupHealth(d: Directive): Plugin {
  let lameduckMs = 0;
  for (const o of d.block) {
    if (o.name !== 'lameduck') throw argError(o, `unknown property '${o.name}'`);
    const ms = parseDuration(o.args[0]);
    if (ms === undefined) throw argError(o, `invalid duration '${o.args[0] ?? ''}'`);
    lameduckMs = ms;
  }
  const endpoint = httpEndpoint(d, d.args[0] ?? ':8080', '/health', (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('OK'));
  return {
    name: 'health',
    serve: (req, next) => next(req),
    start: () => endpoint.start(),
    stop: async (reason) => {
      // lameduck delays the final shutdown only; a reload swaps the listener right away
      if (lameduckMs > 0 && reason !== 'reload') await new Promise((r) => setTimeout(r, lameduckMs));
      await endpoint.stop();
    },
  };
}
