import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../src/api/types.js';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, podToEndpoint, reconcileSlices, SERVICE_NAME_LABEL } from '../../src/controllers/endpointslice-plan.js';
import { pod, service } from './controllers-fixtures.js';

const ready = (name: string, ip: string, extra: Parameters<typeof pod>[1] = {}) => pod(name, { node: 'n1', ready: true, ip, ...extra });

/** What the API server would store for a created slice. */
function stored(s: EndpointSlice, name: string): EndpointSlice {
  return { ...structuredClone(s), metadata: { ...structuredClone(s.metadata), name, resourceVersion: '1' } };
}

describe('podToEndpoint', () => {
  it('sets ready/serving/terminating as upstream does', () => {
    const svc = service('web');
    expect(podToEndpoint(svc, ready('a', '10.244.1.2')).conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(podToEndpoint(svc, ready('a', '10.244.1.2', { deleting: true })).conditions).toEqual({ ready: false, serving: true, terminating: true });
    expect(podToEndpoint(svc, pod('b', { node: 'n1', ready: false, ip: '10.244.1.3' })).conditions).toEqual({ ready: false, serving: false, terminating: false });
    const pna = service('web', { publishNotReady: true });
    expect(podToEndpoint(pna, pod('b', { node: 'n1', ready: false, ip: '10.244.1.3' })).conditions?.ready).toBe(true);
  });

  it('carries targetRef, nodeName and the hostname when subdomain is the Service', () => {
    const p = ready('a', '10.244.1.2', { hostname: 'db-0', subdomain: 'web' });
    const ep = podToEndpoint(service('web'), p);
    expect(ep).toMatchObject({ addresses: ['10.244.1.2'], hostname: 'db-0', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: p.metadata.uid } });
    expect(podToEndpoint(service('other'), p).hostname).toBeUndefined();
  });
});

describe('reconcileSlices', () => {
  it('creates one labelled, owned slice with resolved ports for ready Pods with an IP', () => {
    const svc = service('web');
    const changes = reconcileSlices(svc, [ready('a', '10.244.1.2'), ready('b', '10.244.2.2'), pod('noip', { node: 'n1' })], []);
    expect(changes.update).toEqual([]);
    expect(changes.create).toHaveLength(1);
    const s = changes.create[0];
    expect(s.metadata.generateName).toBe('web-');
    expect(s.metadata.labels).toEqual({ [SERVICE_NAME_LABEL]: 'web', [MANAGED_BY_LABEL]: CONTROLLER_NAME });
    expect(s.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-web', controller: true, blockOwnerDeletion: true }]);
    expect(s.addressType).toBe('IPv4');
    expect(s.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(s.endpoints.map((e) => e.addresses[0])).toEqual(['10.244.1.2', '10.244.2.2']);
  });

  it('splits Pods whose named targetPort resolves differently into separate slices', () => {
    const svc = service('web', { ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    const a = ready('a', '10.244.1.2', { ports: [{ name: 'web', containerPort: 8080 }] });
    const b = ready('b', '10.244.1.3', { ports: [{ name: 'web', containerPort: 9090 }] });
    const c = ready('c', '10.244.1.4', { ports: [{ name: 'web', containerPort: 8080 }] });
    const changes = reconcileSlices(svc, [a, b, c], []);
    const byPort = Object.fromEntries(changes.create.map((s) => [s.ports?.[0]?.port, s.endpoints.map((e) => e.targetRef?.name)]));
    expect(byPort).toEqual({ 8080: ['a', 'c'], 9090: ['b'] });
  });

  it('puts at most 100 endpoints in a slice', () => {
    const pods = Array.from({ length: 250 }, (_, i) => ready(`p${String(i).padStart(3, '0')}`, `10.244.${Math.floor(i / 200)}.${(i % 200) + 2}`));
    const changes = reconcileSlices(service('web'), pods, []);
    expect(changes.create.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
  });

  it('keeps a headless Service sliced, with the headless label', () => {
    const changes = reconcileSlices(service('web', { headless: true }), [ready('a', '10.244.1.2')], []);
    expect(changes.create[0].metadata.labels?.['service.kubernetes.io/headless']).toBe('');
  });

  it('changes nothing when the slices already match', () => {
    const svc = service('web');
    const pods = [ready('a', '10.244.1.2'), ready('b', '10.244.1.3')];
    const existing = reconcileSlices(svc, pods, []).create.map((s, i) => stored(s, `web-${i}`));
    expect(reconcileSlices(svc, pods, existing)).toEqual({ create: [], update: [], delete: [] });
  });

  it('updates a slice in place when a Pod becomes unready, terminates or leaves', () => {
    const svc = service('web');
    const [a, b, c] = [ready('a', '10.244.1.2'), ready('b', '10.244.1.3'), ready('c', '10.244.1.4')];
    const existing = reconcileSlices(svc, [a, b, c], []).create.map((s) => stored(s, 'web-x1'));
    const terminating = { ...b, metadata: { ...b.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
    const changes = reconcileSlices(svc, [a, terminating], existing);
    expect(changes.create).toEqual([]);
    expect(changes.delete).toEqual([]);
    expect(changes.update).toHaveLength(1);
    expect(changes.update[0].metadata.name).toBe('web-x1');
    expect(changes.update[0].endpoints.map((e) => [e.targetRef?.name, e.conditions])).toEqual([
      ['a', { ready: true, serving: true, terminating: false }],
      ['b', { ready: false, serving: true, terminating: true }],
    ]);
  });

  it('fills an existing slice with a new Pod instead of creating another slice', () => {
    const svc = service('web');
    const existing = reconcileSlices(svc, [ready('a', '10.244.1.2')], []).create.map((s) => stored(s, 'web-x1'));
    const changes = reconcileSlices(svc, [ready('a', '10.244.1.2'), ready('b', '10.244.1.3')], existing);
    expect(changes.create).toEqual([]);
    expect(changes.update.map((s) => s.endpoints.length)).toEqual([2]);
  });

  it('keeps one empty placeholder slice when no Pod matches', () => {
    const svc = service('web');
    const created = reconcileSlices(svc, [], []);
    expect(created.create).toHaveLength(1);
    expect(created.create[0].endpoints).toEqual([]);
    const placeholder = stored(created.create[0], 'web-p');
    expect(reconcileSlices(svc, [], [placeholder])).toEqual({ create: [], update: [], delete: [] });
    const withPod = stored(reconcileSlices(svc, [ready('a', '10.244.1.2')], []).create[0], 'web-a');
    const emptied = reconcileSlices(svc, [], [withPod]);
    expect(emptied.delete.map((s) => s.metadata.name)).toEqual(['web-a']);
    expect(emptied.create[0].endpoints).toEqual([]);
  });

  it('replaces the placeholder once Pods appear', () => {
    const svc = service('web');
    const placeholder = stored(reconcileSlices(svc, [], []).create[0], 'web-p');
    const changes = reconcileSlices(svc, [ready('a', '10.244.1.2')], [placeholder]);
    expect(changes.delete.map((s) => s.metadata.name)).toEqual(['web-p']);
    expect(changes.create).toHaveLength(1);
  });
});
