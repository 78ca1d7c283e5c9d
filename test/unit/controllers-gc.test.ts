import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { gcDecision } from '../../src/controllers/garbage-collector.js';
import { PODS } from '../../src/controllers/kinds.js';
import { isNamespaceTerminating, planNamespaceCleanup } from '../../src/controllers/namespace.js';

const ref = (uid: string) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${uid}`, uid });
const obj = (uids: string[], deleting = false): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', ownerReferences: uids.map(ref), ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
});

describe('gcDecision', () => {
  const goneUids = new Set(['dead', 'dead2']);
  const gone = (r: { uid: string }) => goneUids.has(r.uid);
  it('deletes an object whose owners are all gone', () => {
    expect(gcDecision(obj(['dead', 'dead2']), gone)).toEqual({ action: 'delete' });
  });
  it('drops only the dangling references when some owner lives', () => {
    expect(gcDecision(obj(['dead', 'alive']), gone)).toEqual({ action: 'removeRefs', keep: [ref('alive')] });
  });
  it('keeps objects with living owners, without owners, or already being deleted', () => {
    expect(gcDecision(obj(['alive']), gone)).toEqual({ action: 'keep' });
    expect(gcDecision(obj([]), gone)).toEqual({ action: 'keep' });
    expect(gcDecision(obj(['dead'], true), gone)).toEqual({ action: 'keep' });
  });
});

describe('namespace cleanup', () => {
  it('deletes what is not yet being deleted and counts everything still there', () => {
    const live = obj([]);
    const going = obj([], true);
    const plan = planNamespaceCleanup([{ r: PODS, obj: live }, { r: PODS, obj: going }]);
    expect(plan.remove.map((c) => c.obj)).toEqual([live]);
    expect(plan.remaining).toBe(2);
  });
  it('recognises a Terminating namespace', () => {
    expect(isNamespaceTerminating({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, status: { phase: 'Terminating' } })).toBe(true);
    expect(isNamespaceTerminating({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, status: { phase: 'Active' } })).toBe(false);
  });
});
