import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import type { ContainerRun, PodRecord } from '../../src/node/pod-record.js';
import { computePodStatus, statusChanged, type ProbeResults } from '../../src/node/status.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function pod(containers = ['app'], restartPolicy: Pod['spec']['restartPolicy'] = 'Always', status: Pod['status'] = { phase: 'Pending' }): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { restartPolicy, nodeName: 'n1', containers: containers.map((name) => ({ name, image: 'busybox' })) },
    status,
  };
}

function record(containers: ContainerRun[], podIP: string | undefined = '10.244.1.2'): PodRecord {
  return { uid: 'u1', namespace: 'default', name: 'web', netns: 'k-1', utsFile: '/x/uts', sandboxID: 'ab', podIP, startTime: iso(T0), containers };
}

const running = (name: string, extra: Partial<ContainerRun> = {}): ContainerRun => ({ name, restartCount: 0, pid: 42, startedAt: iso(T0), containerID: 'kemu://1', ...extra });
const exit = (code: number, at: number) => ({ exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: iso(T0), finishedAt: iso(at) });
const probes = (r: Partial<ProbeResults> = {}) => () => ({ ready: true, started: true, ...r });

const status = (p: Pod, rec: PodRecord | undefined, pr = probes(), now = T0 + 1000) => computePodStatus({ pod: p, record: rec, probes: pr, hostIP: '172.18.0.3', nowMs: now });
const cond = (s: ReturnType<typeof status>, type: string) => s.conditions?.find((c) => c.type === type);

describe('Pod status', () => {
  it('is Pending with ContainerCreating before the sandbox exists', () => {
    const s = status(pod(), undefined);
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } });
    expect(cond(s, 'PodReadyToStartContainers')?.status).toBe('False');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
    expect(s.podIP).toBeUndefined();
  });

  it('is Running and Ready with IPs, conditions in the kubelet order', () => {
    const s = status(pod(), record([running('app')]));
    expect(s.phase).toBe('Running');
    expect(s.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    expect(s).toMatchObject({ podIP: '10.244.1.2', podIPs: [{ ip: '10.244.1.2' }], hostIP: '172.18.0.3', hostIPs: [{ ip: '172.18.0.3' }], startTime: iso(T0) });
    expect(s.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, state: { running: { startedAt: iso(T0) } }, lastState: {} });
  });

  it('is not Ready while a readiness probe has not passed, nor started before a startup probe', () => {
    expect(status(pod(), record([running('app')]), probes({ ready: false })).containerStatuses?.[0]).toMatchObject({ ready: false, started: true });
    expect(status(pod(), record([running('app')]), probes({ started: false })).containerStatuses?.[0]).toMatchObject({ ready: false, started: false });
  });

  it('shows CrashLoopBackOff while a restart waits, with the last exit in lastState', () => {
    const run: ContainerRun = { name: 'app', restartCount: 1, terminated: exit(1, T0 + 500), backoff: { backoffMs: 10_000, lastUpdate: T0 } };
    const s = status(pod(), record([run]));
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses?.[0]?.state?.waiting).toEqual({ reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_default(u1)' });
    expect(s.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(s.containerStatuses?.[0]?.restartCount).toBe(1);
  });

  it('is Succeeded or Failed when restartPolicy says no restart', () => {
    const done = status(pod(['a', 'b'], 'Never'), record([{ name: 'a', restartCount: 0, terminated: exit(0, T0) }, { name: 'b', restartCount: 0, terminated: exit(0, T0) }]));
    expect(done.phase).toBe('Succeeded');
    expect(cond(done, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    const failed = status(pod(['a'], 'Never'), record([{ name: 'a', restartCount: 0, terminated: exit(2, T0) }]));
    expect(failed.phase).toBe('Failed');
    expect(failed.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(2);
    // OnFailure: a failed container restarts, a completed one does not
    expect(status(pod(['a'], 'OnFailure'), record([{ name: 'a', restartCount: 0, terminated: exit(2, T0) }])).phase).toBe('Running');
    expect(status(pod(['a'], 'OnFailure'), record([{ name: 'a', restartCount: 0, terminated: exit(0, T0) }])).phase).toBe('Succeeded');
  });

  it('stays Pending while one container never ran', () => {
    expect(status(pod(['a', 'b']), record([running('a'), { name: 'b', restartCount: 0, waiting: { reason: 'ErrImagePull', message: 'x' } }])).phase).toBe('Pending');
  });

  it('keeps transition times while a condition holds and is unchanged when recomputed', () => {
    const first = status(pod(), record([running('app')]), probes(), T0 + 1000);
    const again = status({ ...pod(), status: first }, record([running('app')]), probes(), T0 + 60_000);
    expect(statusChanged(first, again)).toBe(false);
    const unready = status({ ...pod(), status: first }, record([running('app')]), probes({ ready: false }), T0 + 60_000);
    expect(statusChanged(first, unready)).toBe(true);
    expect(cond(unready, 'Ready')?.lastTransitionTime).toBe(iso(T0 + 60_000));
    expect(cond(unready, 'Initialized')?.lastTransitionTime).toBe(iso(T0 + 1000));
  });

  it('keeps the scheduler PodScheduled condition and never leaves a finished phase', () => {
    const scheduled = { type: 'PodScheduled' as const, status: 'True' as const, lastProbeTime: null, lastTransitionTime: '2024-12-31T23:59:59Z' };
    expect(cond(status(pod(['app'], 'Always', { phase: 'Pending', conditions: [scheduled] }), undefined), 'PodScheduled')).toEqual(scheduled);
    expect(status(pod(['app'], 'Always', { phase: 'Succeeded' }), record([running('app')])).phase).toBe('Succeeded');
  });
});
