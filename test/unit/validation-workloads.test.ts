import { describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from '../../src/api/types.js';
import { errorsOf, stored } from './validation-helpers.js';

function deploy(spec: Partial<Deployment['spec']> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
      ...spec,
    },
  };
}

function replicaSet(spec: Partial<ReplicaSet['spec']> = {}): ReplicaSet {
  const d = deploy();
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abc', namespace: 'default' }, spec: { selector: d.spec.selector, template: d.spec.template, ...spec } };
}

describe('Deployment validation', () => {
  it('accepts a defaulted Deployment', () => {
    expect(errorsOf(deploy())).toEqual([]);
  });

  it('requires a selector', () => {
    expect(errorsOf(deploy({ selector: undefined as unknown as Deployment['spec']['selector'] }))).toEqual(['spec.selector: Required value']);
  });

  it('rejects an empty selector', () => {
    expect(errorsOf(deploy({ selector: {} }))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
  });

  it('wants the template labels to match the selector', () => {
    const d = deploy();
    d.spec.template.metadata = { labels: { app: 'x' } };
    expect(errorsOf(d)).toEqual(['spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`']);
  });

  it('checks selector expressions', () => {
    const d = deploy({ selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' }] } });
    expect(errorsOf(d)).toContain("spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
  });

  it('rejects negative replicas', () => {
    expect(errorsOf(deploy({ replicas: -1 }))).toEqual(['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  });

  it('does not allow maxSurge and maxUnavailable both 0', () => {
    expect(errorsOf(deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } }))).toEqual([
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0%: may not be 0 when `maxSurge` is 0',
    ]);
    expect(errorsOf(deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } }))).toEqual([]);
  });

  it('checks percent syntax, the 100% ceiling and the Recreate strategy', () => {
    expect(errorsOf(deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } } }))).toEqual([
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%',
    ]);
    expect(errorsOf(deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'half' } } }))).toEqual([
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: half: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]);
    expect(errorsOf(deploy({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }))).toEqual([
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]);
  });

  it('wants restartPolicy Always in the template', () => {
    const d = deploy();
    d.spec.template.spec.restartPolicy = 'Never';
    expect(errorsOf(d)).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  });

  it('validates the template pod spec', () => {
    const d = deploy();
    d.spec.template.spec.containers = [];
    expect(errorsOf(d)).toEqual(['spec.template.spec.containers: Required value']);
  });

  it('keeps the selector immutable on update', () => {
    const old = stored(deploy());
    const next = deploy({ selector: { matchLabels: { app: 'web2' } } });
    next.spec.template.metadata = { labels: { app: 'web2' } };
    expect(errorsOf(next, old)).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
    const scaled = structuredClone(old);
    scaled.spec.replicas = 5;
    expect(errorsOf(scaled, old)).toEqual([]);
  });
});

describe('ReplicaSet validation', () => {
  it('accepts a defaulted ReplicaSet and applies the same selector rules', () => {
    expect(errorsOf(replicaSet())).toEqual([]);
    expect(errorsOf(replicaSet({ selector: { matchLabels: { app: 'other' } } }))).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    expect(errorsOf(replicaSet({ replicas: -2 }))).toEqual(['spec.replicas: Invalid value: -2: must be greater than or equal to 0']);
  });

  it('keeps the selector immutable on update', () => {
    const old = stored(replicaSet());
    const next = structuredClone(old);
    next.spec.selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] };
    expect(errorsOf(next, old)).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"Exists", Values:[]string(nil)}}}: field is immutable',
    ]);
  });
});
