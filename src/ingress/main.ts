// startIngressController: objects in (from the kemu API or a static set), a running Traefik-like
// ingress out: entrypoints web and websecure, the API/ping/metrics port, status writing.
// Every change rebuilds the dynamic configuration (debounced) and swaps the runtime atomically;
// requests and WebSocket tunnels in flight keep going on what they started with.

import os from 'node:os';
import type { Client } from '../api/client.js';
import type { Node } from '../api/types.js';
import { startApiServer } from './api/server.js';
import { buildDynamicConfig, type ClusterObjects } from './config/build.js';
import { CONTROLLER_NAME, selectClasses } from './config/ingress-class.js';
import type { Compat, DynamicConfig } from './config/types.js';
import { IngressMetrics } from './metrics.js';
import { CertificateStore, DEFAULT_CERT_CN, generateSelfSigned } from './proxy/certificates.js';
import { DEFAULT_TIMEOUTS, EntryPoint, type EntryPointTimeouts } from './proxy/entrypoints.js';
import { Runtime, type RuntimeDeps } from './proxy/runtime.js';
import { UpstreamPools } from './proxy/upstream.js';
import { InformerSource, StaticSource, type ObjectSource } from './sources.js';
import { nodeAddresses, statusUpdates, writeStatus } from './status.js';

export interface IngressLog {
  info(line: string): void;
  error(line: string): void;
  /** one Traefik JSON access-log record per request; off when unset */
  access?(record: Record<string, unknown>): void;
}

export interface IngressControllerOptions {
  /** the kemu API; used unless `source` is given */
  client?: Client;
  /** static objects (tests); reload(objects) replaces them */
  source?: ClusterObjects;
  /** nodes for status addresses when `source` is used */
  nodes?: Node[];
  entrypoints: { web: number; websecure: number };
  apiPort: number;
  /** listen address, default 0.0.0.0 */
  address?: string;
  compat?: Compat;
  log?: IngressLog;
  /** Traefik's file provider: extra routers, services and middlewares */
  file?: Partial<DynamicConfig>;
  controller?: string;
  timeouts?: Partial<EntryPointTimeouts>;
  maxHeaderSize?: number;
  /** addresses written to status.loadBalancer.ingress; default: node InternalIPs */
  publishAddresses?: string[];
  /** X-Forwarded-Server; default os.hostname() */
  hostname?: string;
  /** debounce of rebuilds after object changes; default 100 ms */
  throttleMs?: number;
  /** how long stop() lets requests in flight finish; default 10 s (Traefik's graceTimeOut) */
  graceMs?: number;
}

export interface IngressController {
  ports: { web: number; websecure: number; api: number };
  /** the configuration currently served */
  config(): DynamicConfig;
  /** rebuild now (with new objects when running on a static source) */
  reload(objects?: ClusterObjects): Promise<void>;
  stop(): Promise<void>;
}

const consoleLog: IngressLog = { info: (l) => console.log(l), error: (l) => console.error(l) };
export const SPEC_SERVER_HEADER = 'traefik-emu';

export async function startIngressController(opts: IngressControllerOptions): Promise<IngressController> {
  const log = opts.log ?? consoleLog;
  const compat: Compat = opts.compat ?? 'spec';
  const address = opts.address ?? '0.0.0.0';
  const metrics = new IngressMetrics();
  const pools = new UpstreamPools();
  const staticSource = opts.source ? new StaticSource(opts.source, opts.nodes) : undefined;
  const source: ObjectSource | undefined = staticSource ?? (opts.client ? new InformerSource(opts.client) : undefined);
  if (!source) throw new Error('startIngressController: give a client or a source');
  const entryPointInfo = [
    { name: 'web', tls: false },
    { name: 'websecure', tls: true },
  ];
  const deps: RuntimeDeps = {
    pools,
    hooks: { onRetry: (ctx) => metrics.svcRetries.add({ service: ctx.serviceUrl ? serviceOf(ctx.serviceUrl) : 'unknown' }) },
    onServerHealth: (service, url, up) => metrics.serverUp.set({ service, url }, up ? 1 : 0),
  };
  const defaultCert = await generateSelfSigned(DEFAULT_CERT_CN);
  const store = CertificateStore.withDefault(defaultCert);
  let runtime = new Runtime({ routers: [], services: [], middlewares: [], certificates: [], warnings: [] }, entryPointInfo, deps);
  // service name by server URL, for the retry counter's label
  const serviceOf = (url: string): string => [...runtime.balancers].find(([, lb]) => lb.urls.includes(url))?.[0] ?? 'unknown';
  let lastWarnings = new Set<string>();
  let terminating = false;

  const rebuild = async (): Promise<void> => {
    const objects = source.objects();
    const config = buildDynamicConfig(objects, { compat, controller: opts.controller, defaultEntryPoints: ['web', 'websecure'], tlsEntryPoints: ['websecure'], file: opts.file });
    const next = new Runtime(config, entryPointInfo, deps, runtime);
    store.load(config.certificates);
    const previous = runtime;
    runtime = next;
    previous.stop();
    next.start();
    pools.retain(next.origins());
    metrics.configReloads.add({});
    metrics.lastReloadSuccess.set({}, Math.floor(Date.now() / 1000));
    const warnings = new Set([...config.warnings, ...store.rejected, ...[...next.errors].map(([n, e]) => `${n}: ${e}`)]);
    for (const w of warnings) if (!lastWarnings.has(w)) log.error(`level=error msg=${JSON.stringify(w)}`);
    lastWarnings = warnings;
    if (opts.client && !terminating) {
      const addresses = opts.publishAddresses ?? nodeAddresses(source.nodes());
      const classes = selectClasses(objects.ingressClasses, opts.controller ?? CONTROLLER_NAME);
      await writeStatus(opts.client, statusUpdates(objects.ingresses, classes, addresses)).catch((e: unknown) => log.error(`level=error msg="updating ingress status: ${(e as Error).message}"`));
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(rebuild).catch((e: unknown) => log.error(`level=error msg="building configuration: ${(e as Error).message}"`));
    }, opts.throttleMs ?? 100);
  };

  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const common = {
    host: address,
    timeouts,
    maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
    ...(compat === 'spec' ? { serverHeader: SPEC_SERVER_HEADER } : {}),
    hostname: opts.hostname ?? os.hostname(),
    runtime: () => runtime,
    metrics,
    ...(log.access ? { accessLog: log.access.bind(log) } : {}),
    onError: (m: string) => log.error(`level=debug msg=${JSON.stringify(m)}`),
  };
  const web = new EntryPoint({ ...common, name: 'web', port: opts.entrypoints.web });
  const websecure = new EntryPoint({ ...common, name: 'websecure', port: opts.entrypoints.websecure, tls: { store, defaultCert } });

  await source.start(schedule);
  await rebuild();
  await web.listen();
  await websecure.listen();
  const apiAddress = { port: opts.apiPort };
  const api = await startApiServer({
    port: opts.apiPort,
    host: address,
    runtime: () => runtime,
    metrics,
    terminating: () => terminating,
    entryPoints: () => [
      { name: 'web', address: `:${web.port}` },
      { name: 'websecure', address: `:${websecure.port}` },
      { name: 'traefik', address: `:${apiAddress.port}` },
    ],
  });
  apiAddress.port = api.port;
  log.info(`level=info msg="kemu ingress controller started" web=:${web.port} websecure=:${websecure.port} traefik=:${api.port} compat=${compat}`);

  return {
    ports: { web: web.port, websecure: websecure.port, api: api.port },
    config: () => runtime.config,
    reload: async (objects) => {
      if (objects) {
        if (!staticSource) throw new Error('reload(objects) needs a static source');
        staticSource.replace(objects);
      }
      running = running.then(rebuild);
      await running;
    },
    stop: async () => {
      terminating = true;
      if (timer) clearTimeout(timer);
      source.stop();
      await running.catch(() => undefined);
      const grace = opts.graceMs ?? 10_000;
      await Promise.all([web.close(grace), websecure.close(grace)]);
      runtime.stop();
      await api.close();
      await pools.close();
    },
  };
}
