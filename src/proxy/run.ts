// kube-proxy as a running component of one node: informers on Services, EndpointSlices and its own
// Node feed the proxier; a bounded-frequency runner syncs; UDP conntrack entries made stale by a
// sync are deleted; /metrics and /healthz are served (inside the node's namespace with netns). In
// iptables and ipvs modes a canary chain tells when someone flushed the tables (iptables/canary.ts).

import type { Client } from '../api/client.js';
import type { ClusterConfig } from '../api/cluster.js';
import { Informer } from '../api/informer.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { EndpointSlice, KubeObject, Node, Service } from '../api/types.js';
import { deleteConntrack } from '../sys/conntrack.js';
import { KernelIptablesBackend } from '../sys/iptables-backend.js';
import { KernelIpvsBackend, prepareIpvsNamespace } from '../sys/ipvs.js';
import type { Netns } from '../sys/netns.js';
import { KernelNftablesBackend } from '../sys/nft-backend.js';
import { readSysctl, writeSysctls } from '../sys/sysctl.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from './change-tracker.js';
import { staleUdpConntrack, type ProxyState } from './conntrack-cleanup.js';
import { healthAnswer, nodeEligible, type HealthState } from './healthz.js';
import { masqueradeMarkForBit } from './iptables/config.js';
import { iptablesMetricFamilies } from './iptables/metrics.js';
import { CanaryMonitor } from './iptables/canary.js';
import { FULL_SYNC_PERIOD_MS, IptablesProxier } from './iptables/proxier.js';
import { ipvsMetricFamilies } from './ipvs/metrics.js';
import { IpvsProxier } from './ipvs/proxier.js';
import { renderMetrics, SyncHistograms, type MetricFamily } from './metrics.js';
import { nftablesMetricFamilies } from './nftables/metrics.js';
import { NftablesProxier } from './nftables/proxier.js';
import type { ProxierConfig } from './proxier-config.js';
import { startStatusServer, type StatusServer } from './status-server.js';
import { SyncRunner } from './sync-runner.js';

export interface KubeProxyOptions {
  client: Client;
  nodeName: string;
  config: ClusterConfig;
  mode: 'iptables' | 'nftables' | 'ipvs';
  netns?: Netns;
  metricsPort?: number;
  healthzPort?: number;
  minSyncPeriodMs?: number;
  syncPeriodMs?: number;
  /** How often the iptables canary is polled (iptables and ipvs modes); upstream uses syncPeriod. */
  canaryIntervalMs?: number;
  log?: (msg: string) => void;
}

export interface RunningKubeProxy {
  stop(): Promise<void>;
}

const MASQUERADE_BIT = 14;
/** Set by the EndpointSlice controller: when the change that produced the slice happened. */
const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

function resource(kind: string): ResourceType {
  const r = RESOURCES.find((x) => x.kind === kind);
  if (r === undefined) throw new Error(`resource ${kind} is not registered`);
  return r;
}

function internalIP(node: Node | undefined): string | undefined {
  return node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

async function conntrackTCPLiberal(netns: Netns | undefined): Promise<boolean> {
  try {
    return (await readSysctl(netns, 'net.netfilter.nf_conntrack_tcp_be_liberal')) !== '0';
  } catch {
    return false; // no conntrack module loaded yet: the kernel default (0) applies
  }
}

/** What the run loop needs from either mode's proxier. */
type ModeProxier = Pick<
  IptablesProxier,
  'onServiceAdd' | 'onServiceUpdate' | 'onServiceDelete' | 'onEndpointSliceAdd' | 'onEndpointSliceUpdate' | 'onEndpointSliceDelete'
> & {
  sync(): Promise<{ ok: boolean; fullSync: boolean; error?: Error }>;
  forceFullSync(): void;
  /** The /metrics families given the runner's histograms and last-queued time. */
  metricFamilies(h: SyncHistograms, lastQueuedSeconds: number): MetricFamily[];
  /** Stop the mode's own timers (IPVS: graceful-termination checks). */
  stop?(): void;
};

interface ProxierSetup {
  opts: KubeProxyOptions;
  node: Node | undefined;
  nodeIP: string;
  localhostNodePorts: boolean;
  syncPeriodMs: number;
}

async function createProxier({ opts, node, nodeIP, localhostNodePorts, syncPeriodMs }: ProxierSetup): Promise<ModeProxier> {
  const { nodeName, config, netns } = opts;
  const common: ProxierConfig = {
    ipFamily: 'IPv4' as const,
    nodeName,
    nodeIP,
    masqueradeAll: false,
    masqueradeMark: masqueradeMarkForBit(MASQUERADE_BIT),
    clusterCIDR: config.clusterCIDR,
    nodePortAddresses: null,
    hostAddresses: (node?.status?.addresses ?? []).map((a) => a.address),
    syncPeriodMs,
  };
  if (opts.mode === 'ipvs') {
    await prepareIpvsNamespace(netns);
    const proxier = new IpvsProxier({ ...common, randomFully: true }, new KernelIpvsBackend(netns), new KernelIptablesBackend(netns));
    proxier.startDrainChecks(undefined, (e) => opts.log?.(`graceful termination: ${e.message}`));
    return Object.assign(proxier, {
      metricFamilies: (h: SyncHistograms, q: number) => ipvsMetricFamilies(proxier.metrics(), h, q),
    });
  }
  if (opts.mode === 'nftables') {
    const proxier = new NftablesProxier({ ...common, serviceCIDRs: [config.serviceCIDR] }, new KernelNftablesBackend(netns));
    return Object.assign(proxier, {
      metricFamilies: (h: SyncHistograms, q: number) => nftablesMetricFamilies(proxier.metrics(), h, q),
    });
  }
  const proxier = new IptablesProxier(
    {
      ...common,
      localhostNodePorts,
      conntrackTCPLiberal: await conntrackTCPLiberal(netns),
      randomFully: true, // iptables >= 1.6.2
      nfacct: { ctStateInvalidDropped: false, localhostNodePortsAccepted: false },
    },
    new KernelIptablesBackend(netns),
  );
  return Object.assign(proxier, {
    metricFamilies: (h: SyncHistograms, q: number) => iptablesMetricFamilies(proxier.metrics(), h, q),
  });
}

export async function startKubeProxy(opts: KubeProxyOptions): Promise<RunningKubeProxy> {
  const { client, nodeName, netns } = opts;
  const log = opts.log ?? ((msg: string) => console.error(`kube-proxy ${nodeName}: ${msg}`));
  const minSyncPeriodMs = opts.minSyncPeriodMs ?? 1000;
  const syncPeriodMs = opts.syncPeriodMs ?? 30_000;

  const nodes = new Informer<Node>(client, resource('Node'), { fieldSelector: `metadata.name=${nodeName}` });
  const services = new Informer<Service>(client, resource('Service'));
  const slices = new Informer<EndpointSlice>(client, resource('EndpointSlice'));
  const informers: Informer<KubeObject>[] = [nodes, services, slices] as Informer<KubeObject>[];
  const servers: StatusServer[] = [];
  let runner: SyncRunner | undefined;
  let proxierStop: (() => void) | undefined;
  let canary: CanaryMonitor | undefined;
  const stopAll = async (): Promise<void> => {
    await canary?.stop();
    await runner?.stop();
    proxierStop?.();
    for (const i of informers) i.stop();
    for (const s of servers.splice(0)) await s.stop();
  };

  try {
    await nodes.start();
    const node = nodes.get(undefined, nodeName);
    let nodeIP = internalIP(node);
    if (nodeIP === undefined) {
      log(`node ${nodeName} has no InternalIP; using 127.0.0.1 as the node IP`);
      nodeIP = '127.0.0.1';
    }
    // Localhost NodePorts (iptables mode only) need route_localnet, which only the node's own namespace may get.
    const localhostNodePorts = opts.mode === 'iptables' && netns !== undefined;
    if (localhostNodePorts) await writeSysctls(netns, [{ key: 'net.ipv4.conf.all.route_localnet', value: 1 }]);
    const proxier = await createProxier({ opts, node, nodeIP, localhostNodePorts, syncPeriodMs });
    proxierStop = proxier.stop?.bind(proxier);

    // A second pair of trackers sees the same events, to tell which UDP flows a sync made stale.
    const serviceTracker = new ServiceChangeTracker('IPv4');
    const endpointTracker = new EndpointsChangeTracker('IPv4', nodeName);
    let applied: ProxyState = { services: new Map(), endpoints: new Map() };

    const health: HealthState = { nodeEligible: nodeEligible(node) };
    const histograms = new SyncHistograms();
    let lastQueued = 0;
    let triggerTimes: number[] = [];
    let cachesSynced = false;

    const queued = (): void => {
      lastQueued = Date.now();
      health.oldestPendingQueued ??= lastQueued;
      if (cachesSynced) runner?.run();
    };
    const noteTrigger = (slice: EndpointSlice): void => {
      const t = Date.parse(slice.metadata.annotations?.[TRIGGER_TIME_ANNOTATION] ?? '');
      if (Number.isFinite(t)) triggerTimes.push(t);
    };

    services.addHandler({
      onAdd: (s) => (proxier.onServiceAdd(s), serviceTracker.onServiceAdd(s), queued()),
      onUpdate: (o, s) => (proxier.onServiceUpdate(o, s), serviceTracker.onServiceUpdate(o, s), queued()),
      onDelete: (s) => (proxier.onServiceDelete(s), serviceTracker.onServiceDelete(s), queued()),
    });
    slices.addHandler({
      onAdd: (s) => (proxier.onEndpointSliceAdd(s), endpointTracker.onEndpointSliceAdd(s), noteTrigger(s), queued()),
      onUpdate: (o, s) => (proxier.onEndpointSliceUpdate(o, s), endpointTracker.onEndpointSliceUpdate(o, s), noteTrigger(s), queued()),
      onDelete: (s) => (proxier.onEndpointSliceDelete(s), endpointTracker.onEndpointSliceDelete(s), queued()),
    });
    nodes.addHandler({
      onUpdate: (_o, n) => void (health.nodeEligible = nodeEligible(n)),
      onDelete: () => void (health.nodeEligible = false),
    });

    const sync = async (): Promise<boolean> => {
      const started = Date.now();
      const pendingSince = health.oldestPendingQueued;
      const triggers = triggerTimes;
      triggerTimes = [];
      // No await between the two updates and proxier.sync's own: both see the same events.
      const next: ProxyState = { services: serviceTracker.update().map, endpoints: endpointTracker.update().map };
      const result = await proxier.sync();
      const seconds = (Date.now() - started) / 1000;
      histograms.sync_proxy_rules_duration_seconds.observe(seconds);
      (result.fullSync ? histograms.sync_full_proxy_rules_duration_seconds : histograms.sync_partial_proxy_rules_duration_seconds).observe(seconds);
      if (!result.ok) {
        log(`sync failed (retry in ${syncPeriodMs} ms): ${result.error?.message ?? 'unknown error'}`);
        triggerTimes.push(...triggers);
        return false;
      }
      const done = Date.now();
      health.lastUpdated = done;
      if (health.oldestPendingQueued === pendingSince) health.oldestPendingQueued = undefined;
      for (const t of triggers) histograms.network_programming_duration_seconds.observe(Math.max(0, done - t) / 1000);
      const stale = staleUdpConntrack(applied, next, 'IPv4');
      applied = next;
      for (const d of stale) await deleteConntrack(netns, d).catch((e: Error) => log(`conntrack cleanup: ${e.message}`));
      return true;
    };
    runner = new SyncRunner(sync, { minIntervalMs: minSyncPeriodMs, maxIntervalMs: FULL_SYNC_PERIOD_MS, retryIntervalMs: syncPeriodMs });

    const healthTimeoutMs = 2 * syncPeriodMs;
    servers.push(
      await startStatusServer(netns, opts.metricsPort ?? 10249, (path) =>
        path === '/metrics'
          ? {
              status: 200,
              contentType: 'text/plain; version=0.0.4; charset=utf-8',
              body: renderMetrics(proxier.metricFamilies(histograms, lastQueued / 1000)),
            }
          : undefined,
      ),
      await startStatusServer(netns, opts.healthzPort ?? 10256, (path) => {
        if (path !== '/healthz' && path !== '/livez') return undefined;
        const answer = healthAnswer(path, health, Date.now(), healthTimeoutMs);
        return { ...answer, contentType: 'application/json' };
      }),
    );

    // No sync before both caches are filled: a half-seen cluster would drop rules.
    await Promise.all([services.start(), slices.start()]);
    cachesSynced = true;
    queued();
    if (opts.mode !== 'nftables') {
      const onFlushed = (): void => {
        proxier.forceFullSync();
        runner?.run();
      };
      canary = new CanaryMonitor(new KernelIptablesBackend(netns), onFlushed, { intervalMs: opts.canaryIntervalMs ?? syncPeriodMs, log });
      canary.start();
    }
    return { stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
