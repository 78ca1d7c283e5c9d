// What a plugin is: a handler in a chain, as in CoreDNS. A handler answers a request or passes it
// to `next`; the server turns the final Reply into a wire message (header, OPT, truncation).

import type { Directive } from './corefile/parse.js';
import type { Question, RR } from './wire/message.js';

export interface DnsRequest {
  /** the question as sent: its name keeps the client's spelling */
  question: Question;
  proto: 'udp' | 'tcp';
  remoteAddress: string;
  /** EDNS DO bit */
  do: boolean;
  /** the client's EDNS UDP size, or 0 without EDNS (cache keys by size class) */
  udpSize: number;
  /** 0 for client queries; internal lookups (ExternalName targets, loop probes) count up */
  depth: number;
}

export interface Reply {
  rcode: number;
  aa: boolean;
  tc: boolean;
  ra: boolean;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** name of the plugin that wrote it (metrics label) */
  plugin: string;
}

export type Next = (req: DnsRequest) => Promise<Reply>;

export interface Plugin {
  readonly name: string;
  serve(req: DnsRequest, next: Next): Promise<Reply>;
  /** ready plugin: false while this plugin is not ready (kubernetes: not synced) */
  ready?(): boolean;
  start?(): Promise<void>;
  /** `reload`: a new Corefile replaces this plugin (CoreDNS OnRestart); `shutdown`: the server stops (OnFinalShutdown) */
  stop?(reason?: 'reload' | 'shutdown'): Promise<void>;
  /**
   * A value that is replaced whenever this plugin's answers may change (the kubernetes plugin's
   * current zone, rebuilt after every object change). The server keeps reply bytes of a block
   * only while every such value in its chain is the same object (see wire/answer-cache.ts); a
   * plugin whose data can change must either expose this or not be listed as deterministic there.
   */
  current?(): unknown;
}

export function reply(plugin: string, rcode: number, init: Partial<Omit<Reply, 'rcode' | 'plugin'>> = {}): Reply {
  return { rcode, aa: false, tc: false, ra: false, answer: [], authority: [], additional: [], plugin, ...init };
}

export interface Logger {
  info(line: string): void;
  error(line: string): void;
}

/** What plugin setup code gets besides its own directive. */
export interface SetupContext {
  /** the server block's zones, absolute and lower case */
  zones: string[];
  log: Logger;
  /** runs a query through this server block's chain from the top (CoreDNS upstream.Lookup) */
  lookup(req: DnsRequest): Promise<Reply>;
  /** another plugin of the same server block, once all are set up (autopath @kubernetes) */
  plugin(name: string): Plugin | undefined;
  /** options given to startClusterDns that the Corefile cannot express */
  env: PluginEnv;
}

export interface PluginEnv {
  zoneSource?: import('./kubernetes/source.js').ZoneSource;
  /** the IPs this server answers on (kubernetes NS records); defaults to the listen address */
  localIPs: string[];
  /** host for health/ready/metrics listeners when their address has no host */
  httpHost?: string;
  metrics: import('./metrics.js').Metrics;
  /** called when a plugin asks the whole server to stop (loop detected) */
  fatal(reason: string): void;
  /** how the reload plugin reads and applies a changed Corefile; no reloading without it */
  reload?: import('./plugins/reload/index.js').ReloadHooks;
}

export type PluginSetup = (d: Directive, ctx: SetupContext) => Plugin;
