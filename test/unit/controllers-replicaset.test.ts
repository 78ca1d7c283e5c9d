import { describe, expect, it } from 'vitest';
import { compareForDeletion } from '../../src/controllers/pod-util.js';
import { planReplicaSet, podFromTemplate } from '../../src/controllers/replicaset-plan.js';
import { NOW, pod, replicaSet } from './controllers-fixtures.js';

const owned = (rsUid: string) => ({ kind: 'ReplicaSet', name: 'web-abc', uid: rsUid });

describe('planReplicaSet', () => {
  it('creates the missing Pods, not counting terminating or finished ones', () => {
    const rs = replicaSet('web-abc', 4, { uid: 'rs1' });
    const pods = [
      pod('a', { owner: owned('rs1'), node: 'n1', ready: true }),
      pod('b', { owner: owned('rs1'), node: 'n1', deleting: true }),
      pod('c', { owner: owned('rs1'), node: 'n1', phase: 'Failed' }),
    ];
    const plan = planReplicaSet(rs, pods, NOW);
    expect(plan.create).toBe(3);
    expect(plan.delete).toEqual([]);
    expect(plan.status.replicas).toBe(1);
  });

  it('deletes surplus Pods unscheduled first, then pending, not ready, newest', () => {
    const rs = replicaSet('web-abc', 1, { uid: 'rs1' });
    const readyOld = pod('ready-old', { owner: owned('rs1'), node: 'n1', ready: true, readySince: 200, created: 300 });
    const readyNew = pod('ready-new', { owner: owned('rs1'), node: 'n1', ready: true, readySince: 10, created: 20 });
    const notReady = pod('not-ready', { owner: owned('rs1'), node: 'n1', ready: false });
    const pending = pod('pending', { owner: owned('rs1'), node: 'n1', phase: 'Pending' });
    const unscheduled = pod('unscheduled', { owner: owned('rs1') });
    const plan = planReplicaSet(rs, [readyOld, readyNew, notReady, pending, unscheduled], NOW);
    expect(plan.create).toBe(0);
    expect(plan.delete.map((p) => p.metadata.name)).toEqual(['unscheduled', 'pending', 'not-ready', 'ready-new']);
  });

  it('prefers deleting the Pod with more restarts among equally ready ones', () => {
    const a = pod('a', { node: 'n', ready: true, readySince: 50, restarts: 0, created: 100 });
    const b = pod('b', { node: 'n', ready: true, readySince: 50, restarts: 3, created: 100 });
    expect([a, b].sort(compareForDeletion).map((p) => p.metadata.name)).toEqual(['b', 'a']);
  });

  it('reports ready, available (minReadySeconds) and fully labeled counts and asks to look again', () => {
    const rs = replicaSet('web-abc', 3, { uid: 'rs1', minReadySeconds: 30, generation: 4 });
    const pods = [
      pod('a', { owner: owned('rs1'), node: 'n', ready: true, readySince: 100 }),
      pod('b', { owner: owned('rs1'), node: 'n', ready: true, readySince: 10 }),
      pod('c', { owner: owned('rs1'), node: 'n', ready: false, labels: { other: 'x' } }),
    ];
    const plan = planReplicaSet(rs, pods, NOW);
    expect(plan.status).toEqual({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4 });
    expect(plan.requeueAfterMs).toBe(20_000);
  });

  it('does nothing to the Pod count of a ReplicaSet being deleted', () => {
    const rs = replicaSet('web-abc', 3, { uid: 'rs1' });
    rs.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    expect(planReplicaSet(rs, [], NOW).create).toBe(0);
  });
});

describe('podFromTemplate', () => {
  it('builds a Pod named after the ReplicaSet, controlled by it', () => {
    const rs = replicaSet('web-abc', 1, { uid: 'rs1' });
    const p = podFromTemplate(rs);
    expect(p.metadata.generateName).toBe('web-abc-');
    expect(p.metadata.labels).toEqual({ app: 'web' });
    expect(p.metadata.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs1', controller: true, blockOwnerDeletion: true },
    ]);
    expect(p.spec.containers[0].image).toBe('nginx');
    p.spec.containers[0].image = 'changed';
    expect(rs.spec.template.spec.containers[0].image).toBe('nginx');
  });
});
