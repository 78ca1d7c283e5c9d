import { describe, expect, it } from 'vitest';
import type { ContainerPort, Pod } from '../../src/api/types.js';
import { hostPortsConflict, needsScheduling, schedulePod, tolerates, unschedulableMessage } from '../../src/controllers/scheduling.js';
import { node, pod } from './controllers-fixtures.js';

const owner = { kind: 'ReplicaSet', name: 'web-abc', uid: 'rs1' };

describe('schedulePod', () => {
  it('spreads replicas of one owner before looking at total Pods', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const placed = [
      pod('x1', { owner, node: 'a' }),
      pod('other1', { node: 'b' }),
      pod('other2', { node: 'b' }),
      pod('x2', { owner, node: 'c' }),
    ];
    expect(schedulePod(pod('new', { owner }), nodes, placed)).toEqual({ node: 'b' });
  });

  it('breaks ties by total Pods, then by name', () => {
    const nodes = [node('c'), node('b'), node('a')];
    expect(schedulePod(pod('new'), nodes, [pod('o', { node: 'a' })])).toEqual({ node: 'b' });
    expect(schedulePod(pod('new'), nodes, [])).toEqual({ node: 'a' });
  });

  it('ignores finished Pods when counting', () => {
    const nodes = [node('a'), node('b')];
    expect(schedulePod(pod('new'), nodes, [pod('done', { node: 'a', phase: 'Succeeded' }), pod('run', { node: 'b' })])).toEqual({ node: 'a' });
  });

  it('honours nodeSelector', () => {
    const p = pod('new');
    p.spec.nodeSelector = { disk: 'ssd' };
    const nodes = [node('a'), node('b', { labels: { disk: 'ssd' } })];
    expect(schedulePod(p, nodes, [])).toEqual({ node: 'b' });
  });

  it('skips NoSchedule taints unless tolerated, and NotReady or cordoned nodes', () => {
    const taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' as const };
    const nodes = [node('cp', { taints: [taint] }), node('down', { ready: false }), node('cordoned', { unschedulable: true }), node('w')];
    expect(schedulePod(pod('p'), nodes, [pod('busy', { node: 'w' })])).toEqual({ node: 'w' });
    const tolerant = pod('t');
    tolerant.spec.tolerations = [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }];
    expect(schedulePod(tolerant, nodes, [pod('busy', { node: 'w' })])).toEqual({ node: 'cp' });
  });

  it('explains why nothing fits in kube-scheduler words', () => {
    const p = pod('p');
    p.spec.nodeSelector = { disk: 'ssd' };
    const nodes = [node('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), node('w1'), node('w2')];
    expect(schedulePod(p, nodes, [])).toEqual({
      unschedulable:
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    });
  });

  it('says so when there are no nodes', () => {
    expect(unschedulableMessage(0, [])).toBe('no nodes available to schedule pods');
    expect(schedulePod(pod('p'), [], [])).toEqual({ unschedulable: 'no nodes available to schedule pods' });
  });
});

describe('NodePorts filter (host ports)', () => {
  const withPorts = (name: string, ports: ContainerPort[], opts: Parameters<typeof pod>[1] = {}): Pod => {
    const p = pod(name, opts);
    p.spec.containers[0]!.ports = ports;
    return p;
  };
  const http = { containerPort: 8080, hostPort: 8081, protocol: 'TCP' as const };

  it('keeps a second Pod asking the same hostPort off the node that has it', () => {
    const nodes = [node('a'), node('b')];
    // without the port, the fewest-Pods score would pick a
    expect(schedulePod(withPorts('new', [http]), nodes, [withPorts('old', [http], { node: 'a' }), pod('x', { node: 'b' }), pod('y', { node: 'b' })])).toEqual({ node: 'b' });
  });

  it('says no node had free ports, in kube-scheduler words', () => {
    const p = withPorts('new', [http]);
    p.spec.nodeSelector = { 'kubernetes.io/hostname': 'a' };
    const nodes = [node('a', { labels: { 'kubernetes.io/hostname': 'a' } }), node('b')];
    expect(schedulePod(p, nodes, [withPorts('old', [http], { node: 'a' })])).toEqual({
      unschedulable:
        "0/2 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    });
  });

  it('compares protocol, port and hostIP, with an empty or 0.0.0.0 hostIP meaning every address', () => {
    const used = [withPorts('old', [{ containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '172.30.1.2' }], { node: 'a' })];
    const asks = (port: ContainerPort) => hostPortsConflict(withPorts('new', [port]), used);
    expect(asks({ containerPort: 53, hostPort: 53, protocol: 'TCP' })).toBe(false);
    expect(asks({ containerPort: 53, hostPort: 54, protocol: 'UDP' })).toBe(false);
    expect(asks({ containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '172.30.1.3' })).toBe(false);
    expect(asks({ containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '172.30.1.2' })).toBe(true);
    expect(asks({ containerPort: 53, hostPort: 53, protocol: 'UDP' })).toBe(true);
    expect(asks({ containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '0.0.0.0' })).toBe(true);
    // a protocol left out is TCP
    expect(hostPortsConflict(withPorts('new', [{ containerPort: 1, hostPort: 80 }]), [withPorts('old', [{ containerPort: 2, hostPort: 80, protocol: 'TCP' }])])).toBe(true);
  });

  it('ignores container ports without a hostPort and Pods that finished', () => {
    const nodes = [node('a')];
    expect(schedulePod(withPorts('new', [{ containerPort: 8080 }]), nodes, [withPorts('old', [{ containerPort: 8080 }], { node: 'a' })])).toEqual({ node: 'a' });
    expect(schedulePod(withPorts('new', [http]), nodes, [withPorts('done', [http], { node: 'a', phase: 'Failed' })])).toEqual({ node: 'a' });
  });
});

describe('tolerates', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' as const };
  it('matches Equal by value, Exists by key, empty key with Exists matches all', () => {
    expect(tolerates({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', operator: 'Equal', value: 'w' }, taint)).toBe(false);
    expect(tolerates({ key: 'k', operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
  });
});

describe('needsScheduling', () => {
  it('takes unbound live Pods of the default scheduler only', () => {
    expect(needsScheduling(pod('a'))).toBe(true);
    expect(needsScheduling(pod('b', { node: 'n' }))).toBe(false);
    const other = pod('c');
    other.spec.schedulerName = 'my-scheduler';
    expect(needsScheduling(other)).toBe(false);
    expect(needsScheduling(pod('d', { deleting: true }))).toBe(false);
  });
});
