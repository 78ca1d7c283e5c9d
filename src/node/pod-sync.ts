// One Pod's sync, the kubelet's SyncPod: converge what runs on the node to the Pod object and
// report it. In order: sandbox (network + UTS namespaces), network (CNI ADD once), /etc
// files, each container started / restarted by its restartPolicy with the crash-loop back-off,
// probes, status. A Pod being deleted is stopped (SIGTERM, SIGKILL after its grace period),
// detached from the network, its sandbox removed and the object deleted; anything of a Pod that no
// longer exists is removed.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { ClusterConfig } from '../api/cluster.js';
import type { Client } from '../api/client.js';
import { isApiError } from '../api/errors.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { ConfigMap, Container, Pod, PodStatus, Secret, Service } from '../api/types.js';
import { isSameProcess } from '../sys/procfs.js';
import { resolveImage } from '../workloads/images.js';
import { nextBackoff, restartDelay } from './backoff.js';
import { ensureNetworkConfig, PodNetwork, podPortMappings } from './cni.js';
import { BASE_PATH, containerArgv, containerLogFile, linkPodLogDir, podLogDir, startProcess, stopProcessGroup, unlinkPodLogDir } from './containers.js';
import { hostsFileText, podDNSConfig, podHostnameAndDomain, resolvConfText } from './dns-config.js';
import { ContainerConfigError, containerEnv, expandArgv } from './env.js';
import type { EventRecorder } from './events.js';
import { removePodRecord, savePodRecord, type ContainerRun, type PodRecord, type Termination } from './pod-record.js';
import type { ProbeManager } from './probes.js';
import { ensureNamespaces, podNetnsName, podUtsFile, removeSandbox, sandboxID, writeEtcFiles } from './sandbox.js';
import { computePodStatus, rfc3339, shouldRestart, statusChanged } from './status.js';

const PODS = RESOURCES.find((r) => r.kind === 'Pod') as ResourceType;
const CONFIGMAPS = RESOURCES.find((r) => r.kind === 'ConfigMap') as ResourceType;
const SECRETS = RESOURCES.find((r) => r.kind === 'Secret') as ResourceType;

const DEFAULT_GRACE_SECONDS = 30;
/** How soon a container whose config or image failed is tried again. */
const RETRY_MS = 5000;

export interface PodSyncDeps {
  client: Client;
  nodeName: string;
  config: ClusterConfig;
  stateDir: string;
  underlayIP: string;
  network: PodNetwork;
  probes: ProbeManager;
  /** argv prefix that runs a built-in program (node dist/workloads/main.js). */
  builtinRunner: string[];
  nodeResolvConf: string;
  nodeNetns?: string;
  services: () => Service[];
  record: EventRecorder;
  /** Sync this Pod again (now, or after ms). */
  enqueue: (uid: string, afterMs?: number) => void;
  log: (message: string) => void;
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/** A process exit as a terminated state: 128 + signal for a signal, Completed for 0, Error otherwise. */
export function termination(exit: { code: number | null; signal: NodeJS.Signals | null }, startedAt: string | undefined, finishedMs: number): Termination {
  const signal = exit.signal ? signalNumbers[exit.signal] ?? 15 : undefined;
  const exitCode = signal !== undefined ? 128 + signal : exit.code ?? 0;
  return { exitCode, ...(signal !== undefined ? { signal } : {}), reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: rfc3339(finishedMs) };
}

export class PodSyncer {
  readonly records = new Map<string, PodRecord>();
  private readonly ownChildren = new Set<number>();
  private readonly lastPosted = new Map<string, PodStatus>();
  /** Exits already reported with a BackOff event. */
  private readonly reportedBackoff = new Set<string>();

  constructor(private readonly d: PodSyncDeps) {}

  /** Records found on disk at start: their processes are re-adopted on the first sync. */
  adopt(records: PodRecord[]): void {
    for (const r of records) this.records.set(r.uid, r);
  }

  private save(rec: PodRecord): void {
    savePodRecord(this.d.stateDir, this.d.nodeName, rec);
  }

  async sync(uid: string, pod: Pod | undefined): Promise<{ requeueAfterMs?: number } | void> {
    const rec = this.records.get(uid);
    if (!pod) {
      if (rec) await this.forget(rec, 2000);
      return;
    }
    if (pod.metadata.deletionTimestamp) return this.terminate(pod, rec);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      if (rec && !rec.sandboxGone) await this.killSandbox(rec, 0);
      return;
    }
    if (!ensureNetworkConfig(this.d.stateDir, this.d.nodeName)) {
      await this.postStatus(pod, rec);
      return { requeueAfterMs: 1000 };
    }
    const record = rec ?? this.newRecord(pod);
    const { hostname } = podHostnameAndDomain(pod, this.d.config.clusterDomain);
    const sandbox = { stateDir: this.d.stateDir, netns: record.netns, utsFile: record.utsFile, hostname };
    await ensureNamespaces(sandbox);
    if (record.podIP === undefined) {
      record.podIP = await this.d.network.add(this.attachment(record), podPortMappings(pod));
      this.save(record);
    }
    const podIP = record.podIP;
    writeEtcFiles(record.netns, {
      'resolv.conf': resolvConfText(podDNSConfig(pod, this.d.config, this.d.nodeResolvConf)),
      hosts: hostsFileText(pod, [podIP], this.d.config.clusterDomain),
    });
    const seen = { ...pod, status: { ...pod.status, podIP, podIPs: [{ ip: podIP }], hostIP: this.d.underlayIP, hostIPs: [{ ip: this.d.underlayIP }] } };
    let next: number | undefined;
    for (const container of pod.spec.containers) {
      const wait = await this.syncContainer(seen, record, container);
      if (wait !== undefined) next = Math.min(next ?? wait, wait);
    }
    await this.postStatus(pod, record);
    return next !== undefined ? { requeueAfterMs: next } : undefined;
  }

  private newRecord(pod: Pod): PodRecord {
    const uid = pod.metadata.uid as string;
    const rec: PodRecord = {
      uid,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      netns: podNetnsName(this.d.config.name, uid),
      utsFile: podUtsFile(this.d.stateDir, this.d.nodeName, uid),
      sandboxID: sandboxID(uid),
      startTime: pod.status?.startTime ?? rfc3339(Date.now()),
      containers: [],
    };
    this.records.set(uid, rec);
    this.save(rec);
    return rec;
  }

  private attachment(rec: PodRecord) {
    return { sandboxID: rec.sandboxID, netns: rec.netns, namespace: rec.namespace, name: rec.name, uid: rec.uid };
  }

  /** Returns ms until this container needs another look (back-off), if any. */
  private async syncContainer(pod: Pod, rec: PodRecord, container: Container): Promise<number | undefined> {
    let run = rec.containers.find((r) => r.name === container.name);
    if (!run) {
      run = { name: container.name, restartCount: 0 };
      rec.containers.push(run);
    }
    if (run.pid !== undefined) {
      if (isSameProcess(run.pid, run.pidStartTicks)) {
        this.d.probes.ensure(rec.uid, run.containerID ?? '', this.probeTarget(rec, container));
        return undefined;
      }
      // it died while no kubelet was watching: its exit code is lost
      this.exited(rec, run, { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container exited while the kubelet was not running', startedAt: run.startedAt, finishedAt: rfc3339(Date.now()) });
    }
    const now = Date.now();
    if (run.terminated) {
      if (!shouldRestart(pod.spec.restartPolicy, run.terminated)) return undefined;
      const delay = restartDelay(run.backoff, Date.parse(run.terminated.finishedAt), now);
      if (delay > 0) {
        const once = `${rec.uid}/${run.name}/${run.terminated.finishedAt}`;
        if (this.reportedBackoff.has(once)) return delay;
        this.reportedBackoff.add(once);
        this.d.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${pod.metadata.name}_${rec.namespace}(${rec.uid})`, `spec.containers{${container.name}}`);
        return delay;
      }
    }
    return this.startContainer(pod, rec, run, container);
  }

  private async startContainer(pod: Pod, rec: PodRecord, run: ContainerRun, container: Container): Promise<number | undefined> {
    const fieldPath = `spec.containers{${container.name}}`;
    let env: [string, string][];
    try {
      const refs = await this.fetchRefs(pod, container);
      env = containerEnv(container, { pod, services: this.d.services(), configMap: (n) => refs.configMaps.get(n), secret: (n) => refs.secrets.get(n) });
    } catch (e) {
      if (!(e instanceof ContainerConfigError)) throw e;
      run.waiting = { reason: e.reason, message: e.message };
      this.d.record(pod, 'Warning', 'Failed', `Error: ${e.message}`, fieldPath);
      return RETRY_MS;
    }
    const image = container.image ?? '';
    const launch = resolveImage(image, expandArgv(container.command, env), expandArgv(container.args, env));
    if (launch.kind === 'error') {
      run.waiting = { reason: launch.reason, message: launch.message };
      this.d.record(pod, 'Warning', 'Failed', launch.message, fieldPath);
      return RETRY_MS;
    }
    const now = Date.now();
    const restart = run.terminated !== undefined;
    if (restart) {
      run.lastTerminated = run.terminated;
      run.restartCount++;
      run.backoff = nextBackoff(run.backoff, now);
    }
    const { hostname } = podHostnameAndDomain(pod, this.d.config.clusterDomain);
    const logDir = podLogDir(this.d.stateDir, rec.namespace, rec.name, rec.uid);
    if (!restart) this.d.record(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, fieldPath);
    const started = await startProcess(
      {
        argv: containerArgv(rec, launch, this.d.builtinRunner),
        env: { PATH: BASE_PATH, HOSTNAME: hostname, HOME: '/root', ...Object.fromEntries(env) },
        cwd: container.workingDir,
        logFile: containerLogFile(logDir, container.name),
        rotateLog: restart,
      },
      (exit) => {
        this.ownChildren.delete(started.pid);
        // a Pod already torn down, or an instance already accounted for
        if (this.records.get(rec.uid) !== rec || run.pid !== started.pid) return;
        this.exited(rec, run, termination(exit, run.startedAt, Date.now()));
        this.d.enqueue(rec.uid);
      },
    );
    linkPodLogDir(logDir);
    this.ownChildren.add(started.pid);
    Object.assign(run, {
      pid: started.pid,
      pidStartTicks: started.startTicks,
      startedAt: rfc3339(now),
      containerID: `kemu://${createHash('sha256').update(`${rec.uid}/${container.name}/${run.restartCount}`).digest('hex')}`,
      terminated: undefined,
      waiting: undefined,
    });
    this.save(rec);
    this.d.record(pod, 'Normal', 'Created', `Created container ${container.name}`, fieldPath);
    this.d.record(pod, 'Normal', 'Started', `Started container ${container.name}`, fieldPath);
    this.d.probes.ensure(rec.uid, run.containerID as string, this.probeTarget(rec, container));
    return undefined;
  }

  private exited(rec: PodRecord, run: ContainerRun, t: Termination): void {
    run.pid = undefined;
    run.pidStartTicks = undefined;
    run.terminated = t;
    this.d.probes.stop(rec.uid, run.name);
    this.save(rec);
  }

  private probeTarget(rec: PodRecord, container: Container) {
    return { podIP: rec.podIP ?? '', container, pod: rec, env: { PATH: BASE_PATH }, nodeNetns: this.d.nodeNetns };
  }

  /** Processes of dead adopted containers (not our children: no exit event) are noticed here. */
  checkAdopted(): void {
    for (const rec of this.records.values()) {
      for (const run of rec.containers) {
        if (run.pid !== undefined && !this.ownChildren.has(run.pid) && !isSameProcess(run.pid, run.pidStartTicks)) this.d.enqueue(rec.uid);
      }
    }
  }

  /** A liveness or startup probe failed: kill the container; the exit restarts it by the Pod's policy. */
  async killForProbe(uid: string, container: string, kind: string, pod: Pod | undefined): Promise<void> {
    const run = this.records.get(uid)?.containers.find((r) => r.name === container);
    if (!run?.pid || !pod) return;
    this.d.record(pod, 'Normal', 'Killing', `Container ${container} failed ${kind} probe, will be restarted`, `spec.containers{${container}}`);
    this.d.probes.stop(uid, container);
    await stopProcessGroup(run.pid, run.pidStartTicks, (pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000);
  }

  private async postStatus(pod: Pod, rec: PodRecord | undefined): Promise<void> {
    const uid = pod.metadata.uid as string;
    const previous = this.lastPosted.get(uid) ?? pod.status;
    const status = computePodStatus({
      pod: { ...pod, status: previous },
      record: rec,
      probes: (c) => this.d.probes.results(uid, c),
      hostIP: this.d.underlayIP,
      nowMs: Date.now(),
    });
    if (!statusChanged(previous, status) && !statusChanged(pod.status, status)) return;
    try {
      await this.d.client.patchStatus(PODS, pod.metadata.namespace, pod.metadata.name as string, { status });
      this.lastPosted.set(uid, status);
    } catch (e) {
      if (!isApiError(e) || e.code !== 404) throw e;
    }
  }

  private async terminate(pod: Pod, rec: PodRecord | undefined): Promise<void> {
    const graceSeconds = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    if (rec) {
      for (const run of rec.containers) {
        if (run.pid !== undefined) this.d.record(pod, 'Normal', 'Killing', `Stopping container ${run.name}`, `spec.containers{${run.name}}`);
      }
      await this.forget(rec, graceSeconds * 1000);
    }
    try {
      await this.d.client.delete(PODS, pod.metadata.namespace, pod.metadata.name as string, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (e) {
      // gone already, or a new Pod of the same name
      if (!isApiError(e) || (e.code !== 404 && e.code !== 409)) throw e;
    }
  }

  /** Stop the containers (SIGTERM, SIGKILL after graceMs), detach the network, remove the sandbox. */
  private async killSandbox(rec: PodRecord, graceMs: number): Promise<void> {
    this.d.probes.stop(rec.uid);
    await Promise.all(
      rec.containers.map(async (run) => {
        if (run.pid === undefined) return;
        await stopProcessGroup(run.pid, run.pidStartTicks, graceMs);
        run.pid = undefined;
        run.pidStartTicks = undefined;
      }),
    );
    if (rec.podIP !== undefined && ensureNetworkConfig(this.d.stateDir, this.d.nodeName)) await this.d.network.del(this.attachment(rec));
    await removeSandbox(rec);
    rec.sandboxGone = true;
    this.save(rec);
  }

  /** Remove everything of a Pod: processes, network, sandbox, logs, record. */
  private async forget(rec: PodRecord, graceMs: number): Promise<void> {
    if (!rec.sandboxGone) await this.killSandbox(rec, graceMs);
    const logDir = podLogDir(this.d.stateDir, rec.namespace, rec.name, rec.uid);
    fs.rmSync(logDir, { recursive: true, force: true });
    unlinkPodLogDir(logDir);
    removePodRecord(this.d.stateDir, this.d.nodeName, rec.uid);
    this.records.delete(rec.uid);
    this.lastPosted.delete(rec.uid);
    for (const k of this.reportedBackoff) if (k.startsWith(`${rec.uid}/`)) this.reportedBackoff.delete(k);
  }

  /** The ConfigMaps and Secrets the container's env and envFrom name, read from the API as it starts. */
  private async fetchRefs(pod: Pod, c: Container): Promise<{ configMaps: Map<string, ConfigMap>; secrets: Map<string, Secret> }> {
    const ns = pod.metadata.namespace ?? 'default';
    const names = { configMaps: new Set<string>(), secrets: new Set<string>() };
    for (const e of c.env ?? []) {
      const from = (e.valueFrom ?? {}) as { configMapKeyRef?: { name?: string }; secretKeyRef?: { name?: string } };
      if (from.configMapKeyRef?.name) names.configMaps.add(from.configMapKeyRef.name);
      if (from.secretKeyRef?.name) names.secrets.add(from.secretKeyRef.name);
    }
    for (const f of (c.envFrom ?? []) as { configMapRef?: { name?: string }; secretRef?: { name?: string } }[]) {
      if (f.configMapRef?.name) names.configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) names.secrets.add(f.secretRef.name);
    }
    const out = { configMaps: new Map<string, ConfigMap>(), secrets: new Map<string, Secret>() };
    const fetch = async <T extends ConfigMap | Secret>(r: ResourceType, name: string, into: Map<string, T>) => {
      try {
        into.set(name, await this.d.client.get<T>(r, ns, name));
      } catch (e) {
        if (!isApiError(e) || e.code !== 404) throw e;
      }
    };
    await Promise.all([
      ...[...names.configMaps].map((n) => fetch(CONFIGMAPS, n, out.configMaps)),
      ...[...names.secrets].map((n) => fetch(SECRETS, n, out.secrets)),
    ]);
    return out;
  }
}
