// A Pod's status as the kubelet reports it (generateAPIPodStatus): container statuses from what
// runs, phase from the containers (getPhase), the five kubelet-owned conditions with transition
// times kept while their status holds. Pure: the kubelet hands in its record, probe results and the clock.

import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';
import { crashLoopMessage, restartDelay } from './backoff.js';
import type { ContainerRun, PodRecord, Termination } from './pod-record.js';

export interface ProbeResults {
  /** readinessProbe result; true when there is none and the container started. */
  ready: boolean;
  /** startupProbe result; true when there is none. */
  started: boolean;
}

export interface StatusInput {
  pod: Pod;
  record: PodRecord | undefined;
  probes: (container: string) => ProbeResults;
  hostIP: string;
  nowMs: number;
}

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
export const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export function shouldRestart(policy: Pod['spec']['restartPolicy'], exit: Termination): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exit.exitCode !== 0;
  return true;
}

const terminatedState = (t: Termination): ContainerState => ({
  terminated: {
    exitCode: t.exitCode,
    ...(t.signal !== undefined ? { signal: t.signal } : {}),
    reason: t.reason,
    ...(t.message ? { message: t.message } : {}),
    ...(t.startedAt ? { startedAt: t.startedAt } : {}),
    finishedAt: t.finishedAt,
  },
});

function containerState(pod: Pod, run: ContainerRun | undefined, nowMs: number): { state: ContainerState; lastState: ContainerState } {
  const last = run?.lastTerminated ? terminatedState(run.lastTerminated) : {};
  if (!run) return { state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} };
  if (run.pid !== undefined) return { state: { running: { startedAt: run.startedAt } }, lastState: last };
  if (run.terminated) {
    if (!shouldRestart(pod.spec.restartPolicy, run.terminated) || pod.metadata.deletionTimestamp) {
      return { state: terminatedState(run.terminated), lastState: last };
    }
    const finished = Date.parse(run.terminated.finishedAt);
    if (run.backoff && restartDelay(run.backoff, finished, nowMs) > 0) {
      const who = { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid: pod.metadata.uid ?? '' };
      return { state: { waiting: { reason: 'CrashLoopBackOff', message: crashLoopMessage(run.backoff, run.name, who) } }, lastState: terminatedState(run.terminated) };
    }
    return { state: terminatedState(run.terminated), lastState: last };
  }
  return { state: { waiting: run.waiting ?? { reason: 'ContainerCreating' } }, lastState: last };
}

export function containerStatuses(input: StatusInput): ContainerStatus[] {
  const { pod, record, nowMs } = input;
  return pod.spec.containers.map((c) => {
    const run = record?.containers.find((r) => r.name === c.name);
    const { state, lastState } = containerState(pod, run, nowMs);
    const running = state.running !== undefined;
    const probes = input.probes(c.name);
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ...(run?.containerID ? { containerID: run.containerID } : {}),
      state,
      lastState,
      ready: running && probes.started && probes.ready,
      started: running && probes.started,
      restartCount: run?.restartCount ?? 0,
    };
  });
}

/** getPhase: Pending while a container never ran, Running while one runs or will restart, then Succeeded or Failed. */
export function podPhase(pod: Pod, statuses: ContainerStatus[]): NonNullable<PodStatus['phase']> {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === 0) return 'Pending';
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (policy === 'Always') return 'Running';
  if (stopped === succeeded) return 'Succeeded';
  if (policy === 'Never') return 'Failed';
  return 'Running';
}

function condition(type: PodCondition['type'], ok: boolean, previous: PodCondition[], nowIso: string, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const before = previous.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : nowIso,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

export function podConditions(pod: Pod, statuses: ContainerStatus[], phase: string, sandboxReady: boolean, nowIso: string): PodCondition[] {
  const previous = pod.status?.conditions ?? [];
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const ready = unready.length === 0 && !terminal;
  const reason = terminal ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady';
  const message = terminal || ready ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const scheduled = previous.find((c) => c.type === 'PodScheduled');
  return [
    condition('PodReadyToStartContainers', sandboxReady, previous, nowIso),
    condition('Initialized', true, previous, nowIso, terminal ? 'PodCompleted' : undefined),
    condition('Ready', ready, previous, nowIso, reason, message),
    condition('ContainersReady', ready, previous, nowIso, reason, message),
    scheduled ?? condition('PodScheduled', true, previous, nowIso),
  ];
}

export function computePodStatus(input: StatusInput): PodStatus {
  const { pod, record, hostIP, nowMs } = input;
  const statuses = containerStatuses(input);
  // a finished Pod never runs again
  const before = pod.status?.phase;
  const phase = before === 'Succeeded' || before === 'Failed' ? before : podPhase(pod, statuses);
  const sandboxReady = record?.podIP !== undefined && !record.sandboxGone;
  const podIP = record?.podIP ?? pod.status?.podIP;
  return {
    ...pod.status,
    phase,
    conditions: podConditions(pod, statuses, phase, sandboxReady, rfc3339(nowMs)),
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: pod.status?.startTime ?? record?.startTime ?? rfc3339(nowMs),
    containerStatuses: statuses,
  };
}

/** JSON with object keys sorted, so that two statuses compare equal whatever order the API sent. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function statusChanged(before: PodStatus | undefined, after: PodStatus): boolean {
  return canonical(before ?? {}) !== canonical(after);
}
