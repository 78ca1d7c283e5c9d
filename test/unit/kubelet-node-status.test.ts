import { describe, expect, it } from 'vitest';
import { flannelConflist } from '../../src/node/cni.js';
import { goArch, nodeLabels, nodeStatus, osImageFrom, type NodeFacts } from '../../src/node/node-status.js';

const facts: NodeFacts = {
  nodeName: 'kemu-control-plane',
  underlayIP: '172.18.0.2',
  controlPlane: true,
  cpus: 4,
  memoryKiB: 8_000_000,
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
  machineID: 'm',
  bootID: 'b',
};

describe('node status', () => {
  it('labels the control-plane node, with no taint', () => {
    expect(nodeLabels(facts)).toMatchObject({ 'kubernetes.io/hostname': 'kemu-control-plane', 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/control-plane': '' });
    expect(nodeLabels({ ...facts, controlPlane: false })['node-role.kubernetes.io/control-plane']).toBeUndefined();
  });

  it('is NotReady with the runtime wording until the CNI config exists, and keeps flannel condition', () => {
    const flannel = { type: 'NetworkUnavailable', status: 'False' as const, reason: 'FlannelIsUp', lastTransitionTime: 'x' };
    const s = nodeStatus(facts, false, { conditions: [flannel] }, '2025-01-01T00:00:00Z');
    expect(s.conditions?.map((c) => c.type)).toEqual(['NetworkUnavailable', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
    expect(s.conditions?.[0]).toEqual(flannel);
    expect(s.conditions?.[4]).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
    expect(s.conditions?.[4]?.message).toContain('cni plugin not initialized');
    const ready = nodeStatus(facts, true, s, '2025-01-01T00:00:10Z').conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'KubeletReady', lastTransitionTime: '2025-01-01T00:00:10Z', lastHeartbeatTime: '2025-01-01T00:00:10Z' });
  });

  it('reports addresses, capacity, allocatable minus the eviction threshold, and nodeInfo', () => {
    const s = nodeStatus(facts, true, undefined, 'now');
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '172.18.0.2' },
      { type: 'Hostname', address: 'kemu-control-plane' },
    ]);
    expect(s.capacity).toEqual({ cpu: '4', memory: '8000000Ki', pods: '110' });
    expect(s.allocatable?.memory).toBe(`${8_000_000 - 102_400}Ki`);
    expect(s.nodeInfo).toMatchObject({ kubeletVersion: 'v1.31.0-kemu', containerRuntimeVersion: 'kemu://0.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)' });
  });

  it('reads PRETTY_NAME and maps Node.js architectures to GOARCH', () => {
    expect(osImageFrom('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
  });
});

describe('CNI config from subnet.env', () => {
  it('is flannel bridge delegate with the node subnet, MTU and the cluster route', () => {
    const conf = flannelConflist({ FLANNEL_NETWORK: '10.244.0.0/16', FLANNEL_SUBNET: '10.244.3.1/24', FLANNEL_MTU: '1450', FLANNEL_IPMASQ: 'true' }, '/d');
    expect(conf).toEqual({
      name: 'cbr0',
      cniVersion: '1.0.0',
      plugins: [
        {
          type: 'kemu-cni',
          bridge: 'cni0',
          isGateway: true,
          isDefaultGateway: true,
          hairpinMode: true,
          mtu: 1450,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.3.0/24' }]], routes: [{ dst: '10.244.0.0/16' }], dataDir: '/d' },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });
    expect(flannelConflist({ FLANNEL_NETWORK: '10.244.0.0/16', FLANNEL_SUBNET: '10.244.3.1/24' }, '/d')).toBeUndefined();
  });
});
