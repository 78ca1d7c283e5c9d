// What the ReplicaSet controller wants, as a pure function of one ReplicaSet and the Pods it
// controls: how many Pods to create, which to delete (upstream's ActivePods order), the status
// to report, and when to look again for Pods that become available after minReadySeconds.

import type { Pod, ReplicaSet } from '../api/types.js';
import { compareForDeletion, isPodActive, isPodAvailable, isPodReady, msUntilAvailable, ownerRefTo } from './pod-util.js';

/** Upstream's burstReplicas: the most Pods one sync creates or deletes. */
export const BURST_REPLICAS = 500;

export type ReplicaSetStatus = NonNullable<ReplicaSet['status']>;

export interface ReplicaSetPlan {
  create: number;
  delete: Pod[];
  status: ReplicaSetStatus;
  requeueAfterMs?: number;
}

/** pods: the Pods the ReplicaSet controls (any state); terminating and finished ones are not counted. */
export function planReplicaSet(rs: ReplicaSet, pods: Pod[], nowMs: number): ReplicaSetPlan {
  const active = pods.filter(isPodActive);
  const want = rs.metadata.deletionTimestamp ? active.length : (rs.spec.replicas ?? 1);
  const diff = active.length - want;
  const create = diff < 0 ? Math.min(-diff, BURST_REPLICAS) : 0;
  const del = diff > 0 ? [...active].sort(compareForDeletion).slice(0, Math.min(diff, BURST_REPLICAS)) : [];

  const minReady = rs.spec.minReadySeconds ?? 0;
  const templateLabels = Object.entries(rs.spec.template.metadata?.labels ?? {});
  const fullyLabeled = (p: Pod) => templateLabels.every(([k, v]) => p.metadata.labels?.[k] === v);
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter(fullyLabeled).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, nowMs)).length,
    observedGeneration: rs.metadata.generation,
  };
  const waits = active.map((p) => msUntilAvailable(p, minReady, nowMs)).filter((ms): ms is number => ms !== undefined);
  return { create, delete: del, status, requeueAfterMs: waits.length ? Math.min(...waits) : undefined };
}

/** The Pod a ReplicaSet creates: its template, named `<rs>-<5 random chars>` by the server. */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const t = rs.spec.template;
  const metadata: Pod['metadata'] = {
    generateName: `${rs.metadata.name}-`,
    namespace: rs.metadata.namespace,
    labels: { ...(t.metadata?.labels ?? {}) },
    ownerReferences: [ownerRefTo(rs)],
  };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  if (t.metadata?.finalizers) metadata.finalizers = [...t.metadata.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(t.spec) };
}

export function statusEqual(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  return (
    a !== undefined &&
    a.replicas === b.replicas &&
    (a.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
    (a.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
    (a.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
    a.observedGeneration === b.observedGeneration
  );
}
