import { describe, expect, it } from 'vitest';
import { route } from '../../src/api/server/router.js';

const summary = (p: string): unknown => {
  const r = route(p);
  if (r?.kind !== 'resource') return r;
  return { plural: r.resource.plural, namespace: r.namespace, name: r.name, subresource: r.subresource };
};

describe('apiserver router', () => {
  it('routes namespaced and cluster-scoped paths', () => {
    expect(summary('/api/v1/namespaces/default/pods')).toEqual({ plural: 'pods', namespace: 'default', name: undefined, subresource: undefined });
    expect(summary('/api/v1/namespaces/default/pods/web/binding')).toEqual({ plural: 'pods', namespace: 'default', name: 'web', subresource: 'binding' });
    expect(summary('/api/v1/pods')).toEqual({ plural: 'pods', namespace: undefined, name: undefined, subresource: undefined });
    expect(summary('/apis/apps/v1/namespaces/x/deployments/d/scale')).toEqual({ plural: 'deployments', namespace: 'x', name: 'd', subresource: 'scale' });
    expect(summary('/api/v1/nodes/n1/status')).toEqual({ plural: 'nodes', namespace: undefined, name: 'n1', subresource: 'status' });
  });

  it('tells the Namespace objects from namespaced paths', () => {
    expect(summary('/api/v1/namespaces')).toMatchObject({ plural: 'namespaces', name: undefined });
    expect(summary('/api/v1/namespaces/team')).toMatchObject({ plural: 'namespaces', name: 'team' });
    expect(summary('/api/v1/namespaces/team/finalize')).toMatchObject({ plural: 'namespaces', name: 'team', subresource: 'finalize' });
    expect(summary('/api/v1/namespaces/team/status')).toMatchObject({ plural: 'namespaces', name: 'team', subresource: 'status' });
  });

  it('routes discovery and rejects what is not served', () => {
    expect(route('/api')).toEqual({ kind: 'apiVersions' });
    expect(route('/apis/apps')).toEqual({ kind: 'apiGroup', group: 'apps' });
    expect(route('/apis/apps/v1')).toEqual({ kind: 'apiResources', group: 'apps', version: 'v1' });
    expect(route('/apis/nope/v1')).toBeUndefined();
    expect(route('/api/v1/namespaces/default/deployments')).toBeUndefined();
    expect(route('/apis/apps/v1/deployments/x')).toBeUndefined();
    expect(route('/api/v1/nodes/a/b/c')).toBeUndefined();
    expect(route('/other')).toBeUndefined();
  });
});
