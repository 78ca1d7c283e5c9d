// startClusterDns: a Corefile, an object source and an address in; a running DNS server out.
// In a cluster the objects come from Informers on the kemu API; tests hand in a static source.
// A server of several processes (src/dns/workers) runs this twice over: the primary with only the
// control plugins and no DNS listener, each worker with the query plugins (`runs`).

import { parseCorefile, type ServerBlock } from './corefile/parse.js';
import { InformerZoneSource } from './kubernetes/informer-source.js';
import type { ZoneSource } from './kubernetes/source.js';
import { Metrics } from './metrics.js';
import { reply, type Logger, type Plugin, type PluginEnv, type SetupContext } from './plugin.js';
import { setupPlugins } from './plugins/registry.js';
import type { ReloadHooks } from './plugins/reload/index.js';
import { DnsServer, type ServerBlockChain } from './server.js';
import { RCODE } from './wire/message.js';
import type { Client } from '../api/client.js';

export interface ClusterDnsOptions {
  /** the kemu API; used unless `source` is given */
  client?: Client;
  source?: ZoneSource;
  corefile: string;
  /** where DNS is served; without it this process has no DNS listener (a primary of workers) */
  listen?: { address: string; port: number };
  /** the directives this process runs (default: all of them) */
  runs?: (directive: string) => boolean;
  /** plugins of the other processes of this server, for the ready plugin to wait on too */
  peers?: () => Plugin[];
  /** the registry to count in (default: a new one) */
  metrics?: Metrics;
  /** runs before a reloaded Corefile replaces the running one; throwing keeps the running one */
  beforeReload?: (corefile: string) => Promise<void>;
  /** the IPs this server is reached at, for NS answers (default: the listen address) */
  localIPs?: string[];
  log?: Logger;
  /** where the reload plugin reads the Corefile from; without it reload only parses its options */
  readCorefile?: () => Promise<string>;
  /** tells the reload plugin the Corefile may have changed, so it checks at once (a ConfigMap watch) */
  watchCorefile?: (onChange: () => void) => () => void;
  /** called when the server had to stop by itself (loop detected) */
  onFatal?: (reason: string) => void;
}

export interface ClusterDns {
  udpPort: number;
  tcpPort: number;
  metrics: Metrics;
  /** plugins of every server block, in chain order (for ready and tests) */
  plugins(): Plugin[];
  /** the text the running configuration was built from */
  running(): string;
  /** replaces the running configuration, as a reload does; a bad Corefile throws and changes nothing */
  apply(corefile: string): Promise<void>;
  stop(): Promise<void>;
}

const consoleLog: Logger = { info: (l) => console.log(l), error: (l) => console.error(l) };

interface ChainOptions {
  envOf: () => PluginEnv;
  log: Logger;
  server: () => DnsServer | undefined;
  runs: (directive: string) => boolean;
  peers: () => Plugin[];
}

function buildChains(blocks: ServerBlock[], { envOf, log, server, runs, peers }: ChainOptions): { chains: ServerBlockChain[]; all: Plugin[] } {
  const all: Plugin[] = [];
  const everyone = (): Plugin[] => [...all, ...peers()];
  const chains = blocks.map((b) => {
    const zones = b.keys.map((k) => k.zone);
    let plugins: Plugin[] = [];
    const ctx: SetupContext = {
      zones,
      log,
      lookup: (req) => server()?.lookup(req) ?? Promise.resolve(reply('', RCODE.REFUSED)),
      plugin: (name) => plugins.find((p) => p.name === name),
      env: envOf(),
    };
    plugins = setupPlugins(
      b.directives.filter((d) => runs(d.name)),
      ctx,
      everyone,
    );
    all.push(...plugins);
    return { zones, plugins };
  });
  return { chains, all };
}

export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const log = opts.log ?? consoleLog;
  const metrics = opts.metrics ?? new Metrics();
  const blocks = parseCorefile(opts.corefile);
  const needsPods = (bs: ServerBlock[]): boolean => bs.some((b) => b.directives.some((d) => d.name === 'kubernetes' && d.block.some((o) => o.name === 'pods' && o.args[0] === 'verified')));
  let informerSource: InformerZoneSource | undefined;
  if (!opts.source && opts.client) informerSource = new InformerZoneSource(opts.client, { watchPods: needsPods(blocks) });
  const source = opts.source ?? informerSource;

  let running = opts.corefile;
  let dns: DnsServer | undefined;
  let current: Plugin[] = [];
  // A bad Corefile throws while building, before anything changed: the running config keeps
  // serving. Queries switch to the new chains at once; then the old plugins let go of their
  // ports (health, ready, metrics) and the new ones take them.
  const apply = async (text: string): Promise<void> => {
    const built = buildChains(parseCorefile(text), chainOptions);
    await opts.beforeReload?.(text);
    const old = current;
    current = built.all;
    running = text;
    dns?.replaceBlocks(built.chains);
    await Promise.all(old.map((p) => p.stop?.('reload')));
    await Promise.all(current.map((p) => p.start?.()));
  };
  const handle: ClusterDns = {
    udpPort: 0,
    tcpPort: 0,
    metrics,
    plugins: () => current,
    running: () => running,
    apply,
    stop: async () => {
      await Promise.all(current.map((p) => p.stop?.('shutdown')));
      informerSource?.stop();
      await dns?.close();
    },
  };
  const reload: ReloadHooks | undefined = opts.readCorefile && {
    read: opts.readCorefile,
    get running() {
      return running;
    },
    apply,
    ...(opts.watchCorefile ? { watch: opts.watchCorefile } : {}),
  };
  const envOf = (): PluginEnv => ({
    ...(source ? { zoneSource: source } : {}),
    localIPs: opts.localIPs ?? (opts.listen ? [opts.listen.address] : []),
    metrics,
    fatal: (reason) => {
      void handle.stop();
      opts.onFatal?.(reason);
    },
    ...(reload ? { reload } : {}),
  });
  const chainOptions: ChainOptions = { envOf, log, server: () => dns, runs: opts.runs ?? (() => true), peers: opts.peers ?? (() => []) };

  const built = buildChains(blocks, chainOptions);
  current = built.all;
  if (informerSource) void informerSource.start().catch((e: unknown) => log.error(`[ERROR] plugin/kubernetes: ${e instanceof Error ? e.message : String(e)}`));
  if (opts.listen) {
    dns = new DnsServer(built.chains, metrics, (l) => log.error(l));
    const ports = await dns.listen(opts.listen.address, opts.listen.port);
    handle.udpPort = ports.udpPort;
    handle.tcpPort = ports.tcpPort;
  }
  try {
    await Promise.all(current.map((p) => p.start?.()));
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}
