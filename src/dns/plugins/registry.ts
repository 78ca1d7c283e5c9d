// Which directives exist and the order their handlers run in: CoreDNS's plugin.cfg order, not the
// order of the Corefile.

import { CorefileError, type Directive } from '../corefile/parse.js';
import type { Plugin, SetupContext } from '../plugin.js';
import { setupAutopath } from './autopath/index.js';
import { setupCache } from './cache/index.js';
import { setupErrors } from './errors/index.js';
import { setupFile } from './file/index.js';
import { setupForward } from './forward/handler.js';
import { setupHealth } from './health/index.js';
import { setupHosts } from './hosts/index.js';
import { setupKubernetes } from './kubernetes/handler.js';
import { setupLoadbalance } from './loadbalance/index.js';
import { setupLog } from './log/index.js';
import { setupLoop } from './loop/index.js';
import { setupPrometheus } from './prometheus/index.js';
import { setupReady } from './ready/index.js';
import { setupReload } from './reload/index.js';
import { setupRewrite } from './rewrite/index.js';

type Setup = (d: Directive, ctx: SetupContext, all: () => Plugin[]) => Plugin;
/** A plugin whose directives all feed one handler (rewrite: one ordered rule list per server block). */
type GroupSetup = { group: (ds: Directive[], ctx: SetupContext) => Plugin };

export const PLUGIN_ORDER: readonly [string, Setup | GroupSetup][] = [
  ['reload', setupReload],
  ['ready', setupReady],
  ['health', setupHealth],
  ['prometheus', setupPrometheus],
  ['errors', setupErrors],
  ['log', setupLog],
  ['loadbalance', setupLoadbalance],
  ['cache', setupCache],
  ['rewrite', { group: setupRewrite }],
  ['autopath', setupAutopath],
  ['hosts', setupHosts],
  ['kubernetes', setupKubernetes],
  ['file', setupFile],
  ['loop', setupLoop],
  ['forward', setupForward],
];

const SINGLE_USE = new Set(['reload', 'ready', 'health', 'prometheus', 'errors', 'loadbalance', 'cache', 'autopath', 'hosts', 'kubernetes', 'loop']);

/** Builds a server block's plugins in execution order; unknown or repeated directives are errors. */
export function setupPlugins(directives: Directive[], ctx: SetupContext, all: () => Plugin[]): Plugin[] {
  const known = new Map(PLUGIN_ORDER);
  const seen = new Set<string>();
  for (const d of directives) {
    if (!known.has(d.name)) throw new CorefileError(d.line, `Unknown directive '${d.name}'`);
    if (seen.has(d.name) && SINGLE_USE.has(d.name)) throw new CorefileError(d.line, `plugin/${d.name}: this plugin can only be used once per Server Block`);
    seen.add(d.name);
  }
  const plugins: Plugin[] = [];
  for (const [name, setup] of PLUGIN_ORDER) {
    const mine = directives.filter((x) => x.name === name);
    if (mine.length === 0) continue;
    if ('group' in setup) plugins.push(setup.group(mine, ctx));
    else for (const d of mine) plugins.push(setup(d, ctx, all));
  }
  return plugins;
}
