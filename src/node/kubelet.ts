// The kubelet of one node: registers the Node and keeps its status fresh, watches the Pods bound to
// the node and syncs each (pod-sync.ts) with a work queue keyed by Pod uid — events, container
// exits, probe results and a 10 s resync all just say "look at this Pod". Start-up re-adopts what
// the records on disk describe, so restarting the kubelet leaves running Pods alone; records of
// Pods that no longer exist are cleaned up once the Pod list is known.

import fs from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from '../api/cluster.js';
import type { Client } from '../api/client.js';
import { isApiError } from '../api/errors.js';
import { Informer } from '../api/informer.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { Pod, Service } from '../api/types.js';
import { ControllerLoop } from '../controllers/controller.js';
import { cniDirs, ensureNetworkConfig, PodNetwork } from './cni.js';
import { parseResolvConf } from './dns-config.js';
import { eventRecorder } from './events.js';
import { hostFacts, postNodeStatus, registerNode } from './node-status.js';
import { loadPodRecords } from './pod-record.js';
import { PodSyncer } from './pod-sync.js';
import { ProbeManager } from './probes.js';

const PODS = RESOURCES.find((r) => r.kind === 'Pod') as ResourceType;
const SERVICES = RESOURCES.find((r) => r.kind === 'Service') as ResourceType;

export interface KubeletOptions {
  client: Client;
  nodeName: string;
  config: ClusterConfig;
  /** The cluster's state directory. */
  stateDir: string;
  underlayIP: string;
  /** Where kemu-cni is (CNI_PATH). */
  cniBinDir: string;
  /** The node's namespace when this process does not run inside it (probes and CNI run there). */
  netns?: string;
  /** argv prefix for built-in programs; default: this Node.js and <repo>/dist/workloads/main.js. */
  builtinRunner?: string[];
  /** Label the Node as control plane; default: its name ends in -control-plane. */
  controlPlane?: boolean;
  /** The node's place in the cluster (0 = control plane); node IPAM gives it the subnet of that index. */
  nodeIndex?: number;
  statusIntervalMs?: number;
  resyncMs?: number;
  workers?: number;
  log?: (message: string) => void;
}

export interface RunningKubelet {
  stop(): Promise<void>;
}

const REPO = path.resolve(import.meta.dirname, '../..');
export const DEFAULT_BUILTIN_RUNNER = [process.execPath, path.join(REPO, 'dist', 'workloads', 'main.js')];

/**
 * The resolv.conf Pods with dnsPolicy Default get: the host's, or systemd-resolved's upstream file
 * when the host's only points at the stub 127.0.0.53, which a Pod cannot reach (kubeadm does the same).
 */
export function nodeResolvConf(): string {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const host = read('/etc/resolv.conf');
  const servers = parseResolvConf(host).nameservers;
  if (servers.length > 0 && servers.every((s) => s.startsWith('127.'))) {
    const upstream = read('/run/systemd/resolve/resolv.conf');
    if (upstream !== '') return upstream;
  }
  return host;
}

const NETWORK_POLL_MS = 50;

/**
 * Posts status now; while the network is not ready, checks the cheap file test every NETWORK_POLL_MS
 * and posts again the moment it is. Resolves after the first post.
 */
async function watchNetworkReady(ready: () => boolean, post: () => Promise<boolean>, log: (m: string) => void): Promise<{ stop(): void }> {
  if (await post()) return { stop() {} };
  const timer = setInterval(() => {
    if (!ready()) return;
    clearInterval(timer);
    post().catch((e: unknown) => log(`node status: ${(e as Error).message}`));
  }, NETWORK_POLL_MS);
  return { stop: () => clearInterval(timer) };
}

export async function startKubelet(opts: KubeletOptions): Promise<RunningKubelet> {
  const { client, nodeName } = opts;
  const log = opts.log ?? ((m: string) => console.error(`kubelet[${nodeName}]: ${m}`));
  const facts = hostFacts(nodeName, opts.underlayIP, opts.controlPlane ?? nodeName.endsWith('-control-plane'), opts.nodeIndex);
  await registerNode(client, facts);

  const pods = new Informer<Pod>(client, PODS, { fieldSelector: `spec.nodeName=${nodeName}` });
  const services = new Informer<Service>(client, SERVICES);
  const byUid = new Map<string, Pod>();
  let loop: ControllerLoop | undefined;
  const enqueue = (uid: string, afterMs?: number) => (afterMs ? loop?.enqueueAfter(uid, afterMs) : loop?.enqueue(uid));

  const probes = new ProbeManager({
    changed: (uid) => enqueue(uid),
    failed: (uid, container, kind) => {
      syncer.killForProbe(uid, container, kind, byUid.get(uid)).catch((e: unknown) => log(`killing ${container} of ${uid}: ${(e as Error).message}`));
    },
  });
  const syncer = new PodSyncer({
    client,
    nodeName,
    config: opts.config,
    stateDir: opts.stateDir,
    underlayIP: opts.underlayIP,
    network: new PodNetwork(cniDirs(opts.stateDir, nodeName), [opts.cniBinDir], opts.netns),
    probes,
    builtinRunner: opts.builtinRunner ?? DEFAULT_BUILTIN_RUNNER,
    nodeResolvConf: nodeResolvConf(),
    nodeNetns: opts.netns,
    services: () => services.list(),
    record: eventRecorder(client, nodeName, log),
    enqueue,
    log,
  });
  syncer.adopt(loadPodRecords(opts.stateDir, nodeName));

  const track = (pod: Pod) => {
    const uid = pod.metadata.uid as string;
    byUid.set(uid, pod);
    enqueue(uid);
  };
  pods.addHandler({
    onAdd: track,
    onUpdate: (_old, pod) => track(pod),
    onDelete: (pod) => {
      const uid = pod.metadata.uid as string;
      byUid.delete(uid);
      enqueue(uid);
    },
  });
  await Promise.all([pods.start(), services.start()]);

  loop = new ControllerLoop({
    name: `kubelet[${nodeName}]`,
    reconcile: (uid) => syncer.sync(uid, byUid.get(uid)),
    listKeys: () => [...new Set([...byUid.keys(), ...syncer.records.keys()])],
    workers: opts.workers ?? 8,
    resyncMs: opts.resyncMs ?? 10_000,
    onError: (_name, uid, err) => {
      const pod = byUid.get(uid);
      log(`sync pod ${pod ? `${pod.metadata.namespace}/${pod.metadata.name}` : uid} failed (will retry): ${err instanceof Error ? err.message : String(err)}`);
    },
  });
  loop.start();

  const heartbeat = async (): Promise<boolean> => {
    const networkReady = ensureNetworkConfig(opts.stateDir, nodeName);
    try {
      await postNodeStatus(client, facts, networkReady);
    } catch (e) {
      // the Node was deleted: register again, as the kubelet does
      if (isApiError(e) && e.code === 404) await registerNode(client, facts);
      else throw e;
    }
    return networkReady;
  };
  // Until flannel wrote subnet.env the node is NotReady; look often, so Ready is posted the moment
  // the network is there instead of at the next 10 s heartbeat (the real kubelet's runtime-status check).
  const networkWatch = await watchNetworkReady(() => ensureNetworkConfig(opts.stateDir, nodeName), heartbeat, log);
  const statusTimer = setInterval(() => heartbeat().catch((e: unknown) => log(`node status: ${(e as Error).message}`)), opts.statusIntervalMs ?? 10_000);
  // Exits of processes re-adopted after a restart (not our children) are found by polling.
  const adoptedTimer = setInterval(() => syncer.checkAdopted(), 1000);

  return {
    async stop() {
      clearInterval(statusTimer);
      networkWatch.stop();
      clearInterval(adoptedTimer);
      probes.stopAll();
      await loop?.stop();
      pods.stop();
      services.stop();
    },
  };
}
