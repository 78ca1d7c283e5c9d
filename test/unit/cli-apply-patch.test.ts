import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { LAST_APPLIED_ANNOTATION, lastAppliedConfiguration, readLastApplied, threeWayMergePatch, withLastApplied } from '../../src/cli/apply-patch.js';

const manifest = (spec: Record<string, unknown>, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', ...(labels ? { labels } : {}) },
  spec,
});

/** What the server would hold after creating/patching: the manifest plus server fields and defaults. */
function live(applied: KubeObject, extraSpec: Record<string, unknown> = {}): KubeObject {
  const obj = structuredClone(applied);
  obj.metadata = { ...obj.metadata, uid: 'u1', resourceVersion: '7', generation: 1, creationTimestamp: '2024-01-01T00:00:00Z' };
  obj.spec = { ...(obj.spec as object), ...extraSpec };
  obj.status = { replicas: 2 };
  return obj;
}

describe('last-applied annotation', () => {
  it('is compact JSON with sorted keys, a trailing newline, and without itself', () => {
    const m = manifest({ replicas: 2 });
    m.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: 'old', team: 'a' };
    const text = lastAppliedConfiguration(m);
    expect(text).toBe('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"team":"a"},"name":"web","namespace":"default"},"spec":{"replicas":2}}\n');
    expect(readLastApplied(withLastApplied(m))).toEqual(JSON.parse(text));
  });
});

describe('threeWayMergePatch', () => {
  const template = { spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } };

  it('is empty when the manifest did not change, despite server-set fields and defaults in lists', () => {
    const m = withLastApplied(manifest({ replicas: 2, template }));
    const current = live(m, { strategy: { type: 'RollingUpdate' } });
    (current.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0].imagePullPolicy = 'IfNotPresent';
    expect(threeWayMergePatch(readLastApplied(current), m, current)).toEqual({});
  });

  it('sets changed scalars and the new annotation', () => {
    const before = withLastApplied(manifest({ replicas: 2, template }));
    const after = withLastApplied(manifest({ replicas: 5, template }));
    const patch = threeWayMergePatch(readLastApplied(before), after, live(before));
    expect(patch).toEqual({ metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: lastAppliedConfiguration(after) } }, spec: { replicas: 5 } });
  });

  it('removes a field dropped from the manifest but keeps fields it never set', () => {
    const before = withLastApplied(manifest({ replicas: 2, paused: true, template }, { app: 'web', tier: 'front' }));
    const after = withLastApplied(manifest({ replicas: 2, template }, { app: 'web' }));
    const current = live(before, { progressDeadlineSeconds: 600 });
    current.metadata.labels = { ...current.metadata.labels, 'added-by-hand': 'yes' };
    const patch = threeWayMergePatch(readLastApplied(current), after, current);
    expect(patch.spec).toEqual({ paused: null });
    expect((patch.metadata as { labels: unknown }).labels).toEqual({ tier: null });
  });

  it('sends a list whole when an item changed or lost a field since the last apply', () => {
    const withPorts = { spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] } };
    const without = { spec: { containers: [{ name: 'web', image: 'nginx' }] } };
    const before = withLastApplied(manifest({ template: withPorts }));
    const after = withLastApplied(manifest({ template: without }));
    const patch = threeWayMergePatch(readLastApplied(before), after, live(before));
    expect((patch.spec as { template: unknown }).template).toEqual({ spec: { containers: [{ name: 'web', image: 'nginx' }] } });

    const newImage = withLastApplied(manifest({ template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } }));
    const patch2 = threeWayMergePatch(readLastApplied(after), newImage, live(after));
    expect((patch2.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0].image).toBe('nginx:1.27');
  });

  it('without a last-applied configuration only adds and changes, never deletes', () => {
    const m = withLastApplied(manifest({ replicas: 3 }));
    const current = live(manifest({ replicas: 3, paused: true }));
    const patch = threeWayMergePatch(undefined, m, current);
    expect(patch).toEqual({ metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: lastAppliedConfiguration(m) } } });
  });
});
