// A node built by hand for kube-proxy tests that need no cluster: a node namespace with a cni0
// bridge (10.244.1.1/24) and two server Pods on it, each answering HTTP on 8080 with its name, and a
// client Pod on its own routed veth (10.244.9.2 via 10.244.9.1), so replies to the client pass back
// through the node's conntrack and IPVS. With the objects kube-proxy needs to program it: the Node,
// Services with a port 80 -> 8080, and the EndpointSlice of `web`.

import { spawn, type ChildProcess } from 'node:child_process';
import type { EndpointSlice, Node, Service } from '../../../src/api/types.js';
import { ipBatch } from '../../../src/sys/iproute.js';
import { argvIn, createNetns } from '../../../src/sys/netns.js';

export interface ServerPod {
  ns: string;
  ip: string;
  name: string;
}

export interface ProxyNode {
  nodeNs: string;
  clientNs: string;
  servers: ServerPod[];
  /** Every namespace of the node, in the order to delete them (Pods first). */
  namespaces: string[];
}

/** The names and addresses of a node whose namespaces all start with prefix. */
export function proxyNode(prefix: string): ProxyNode {
  const nodeNs = `${prefix}-node`;
  const clientNs = `${prefix}-c`;
  const servers = [
    { ns: `${prefix}-p1`, ip: '10.244.1.2', name: 'pod-one' },
    { ns: `${prefix}-p2`, ip: '10.244.1.3', name: 'pod-two' },
  ];
  return { nodeNs, clientNs, servers, namespaces: [clientNs, ...servers.map((s) => s.ns), nodeNs] };
}

/** Creates the namespaces and links; podSetup runs in each Pod namespace once it is addressed. */
export async function wireProxyNode(node: ProxyNode, podSetup?: (ns: string) => Promise<unknown>): Promise<void> {
  const { nodeNs, clientNs, servers } = node;
  for (const ns of [nodeNs, clientNs, ...servers.map((s) => s.ns)]) await createNetns(ns);
  await ipBatch(nodeNs, [
    { args: ['link', 'set', 'lo', 'up'] },
    { args: ['link', 'add', 'cni0', 'type', 'bridge'] },
    { args: ['addr', 'add', '10.244.1.1/24', 'dev', 'cni0'] },
    { args: ['link', 'set', 'cni0', 'up'] },
    { args: ['link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs] },
    { args: ['addr', 'add', '10.244.9.1/24', 'dev', 'vc'] },
    { args: ['link', 'set', 'vc', 'up'] },
    ...servers.flatMap((s, i) => [
      { args: ['link', 'add', `vp${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.ns] },
      { args: ['link', 'set', `vp${i}`, 'master', 'cni0', 'up'] },
    ]),
  ]);
  const pods: [ns: string, cidr: string, gateway: string][] = [[clientNs, '10.244.9.2/24', '10.244.9.1'], ...servers.map((s): [string, string, string] => [s.ns, `${s.ip}/24`, '10.244.1.1'])];
  for (const [ns, cidr, gateway] of pods) {
    await ipBatch(ns, [
      { args: ['link', 'set', 'lo', 'up'] },
      { args: ['addr', 'add', cidr, 'dev', 'eth0'] },
      { args: ['link', 'set', 'eth0', 'up'] },
      { args: ['route', 'add', 'default', 'via', gateway] },
    ]);
    await podSetup?.(ns);
  }
}

/** Starts each server Pod's HTTP server; the caller kills the returned processes. */
export function startServers(servers: ServerPod[]): ChildProcess[] {
  return servers.map((s) => {
    const script = `require('http').createServer((q, r) => r.end('${s.name}')).listen(8080, '0.0.0.0')`;
    const [cmd, args] = argvIn(s.ns, process.execPath, ['-e', script]);
    return spawn(cmd, args, { stdio: 'ignore' });
  });
}

/** The Node object, its InternalIP the bridge address. */
export function nodeObject(name: string): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: '10.244.1.1' }] } };
}

export function httpService(name: string): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } };
}

/** web's EndpointSlice: every IP a ready endpoint on nodeName, port http 8080. */
export function webSlice(nodeName: string, endpointIPs: string[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: endpointIPs.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}
