// The kubelet's side of hostPort: a Pod's container ports become the portMappings containerd passes
// to the conflist's portmap plugin.
import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../src/api/types.js';
import { podPortMappings } from '../../src/node/cni.js';

function pod(containers: Container[], initContainers?: Container[]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers, initContainers } };
}

describe('podPortMappings', () => {
  it('keeps ports with a hostPort, lowercases the protocol and passes hostIP only when set', () => {
    const p = pod([
      {
        name: 'web',
        ports: [
          { name: 'http', containerPort: 8080, hostPort: 8081, protocol: 'TCP' },
          { name: 'metrics', containerPort: 9000, protocol: 'TCP' },
        ],
      },
      { name: 'dns', ports: [{ containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '172.30.7.2' }] },
    ]);
    expect(podPortMappings(p)).toEqual([
      { hostPort: 8081, containerPort: 8080, protocol: 'tcp' },
      { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '172.30.7.2' },
    ]);
  });

  it('leaves out init containers (the kubelet maps only the Pod containers) and has nothing for a Pod without hostPorts', () => {
    expect(podPortMappings(pod([{ name: 'a', ports: [{ containerPort: 80 }] }], [{ name: 'i', ports: [{ containerPort: 1, hostPort: 1 }] }]))).toEqual([]);
    expect(podPortMappings(pod([{ name: 'a' }]))).toEqual([]);
  });
});
