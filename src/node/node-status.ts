// The kubelet's Node: registered with its labels on start, its status (addresses, capacity,
// nodeInfo, the kubelet's conditions) posted every 10 s. Ready is False with the container
// runtime's wording until the node's CNI config exists, as on a real node before flannel runs.
// Conditions the kubelet does not own (flannel's NetworkUnavailable) are kept as they are.

import fs from 'node:fs';
import os from 'node:os';
import type { Client } from '../api/client.js';
import { isApiError } from '../api/errors.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { Node, NodeCondition } from '../api/types.js';
import { NODE_INDEX_ANNOTATION } from '../controllers/node-ipam.js';
import { rfc3339 } from './status.js';

const NODES = RESOURCES.find((r) => r.kind === 'Node') as ResourceType;

export const KUBELET_VERSION = 'v1.31.0-kemu';
export const CONTAINER_RUNTIME_VERSION = 'kemu://0.1.0';
export const MAX_PODS = 110;
/** The default hard eviction threshold memory.available<100Mi, taken off allocatable. */
const EVICTION_MEMORY_KIB = 100 * 1024;

export interface NodeFacts {
  nodeName: string;
  underlayIP: string;
  controlPlane: boolean;
  /** The node's place in the cluster's node order, when known (see NODE_INDEX_ANNOTATION). */
  nodeIndex?: number;
  cpus: number;
  memoryKiB: number;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  machineID: string;
  bootID: string;
}

/** GOARCH names, as nodeInfo.architecture and the kubernetes.io/arch label use them. */
export function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

/** PRETTY_NAME from /etc/os-release, as the kubelet reports osImage. */
export function osImageFrom(osRelease: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  return m ? m[1]!.trim().replace(/^"(.*)"$/, '$1') : 'Linux';
}

const readOr = (file: string, fallback: string) => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
};

export function hostFacts(nodeName: string, underlayIP: string, controlPlane: boolean, nodeIndex?: number): NodeFacts {
  return {
    nodeName,
    underlayIP,
    controlPlane,
    ...(nodeIndex !== undefined ? { nodeIndex } : {}),
    cpus: os.cpus().length,
    memoryKiB: Math.floor(os.totalmem() / 1024),
    kernelVersion: os.release(),
    osImage: osImageFrom(readOr('/etc/os-release', '')),
    architecture: goArch(process.arch),
    machineID: readOr('/etc/machine-id', ''),
    bootID: readOr('/proc/sys/kernel/random/boot_id', ''),
  };
}

export function nodeLabels(f: NodeFacts): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': f.architecture,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': f.architecture,
    'kubernetes.io/hostname': f.nodeName,
    'kubernetes.io/os': 'linux',
    ...(f.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
  };
}

function kubeletConditions(networkReady: boolean, previous: NodeCondition[], now: string): NodeCondition[] {
  const make = (type: string, status: 'True' | 'False', reason: string, message: string): NodeCondition => {
    const before = previous.find((c) => c.type === type);
    return {
      type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
      reason,
      message,
    };
  };
  return [
    make('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    make('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    make('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    networkReady
      ? make('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
      : make(
          'Ready',
          'False',
          'KubeletNotReady',
          'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
        ),
  ];
}

const KUBELET_CONDITIONS = new Set(['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);

/** The status the kubelet posts, keeping the conditions others own. */
export function nodeStatus(f: NodeFacts, networkReady: boolean, current: Node['status'], now: string): NonNullable<Node['status']> {
  const previous = current?.conditions ?? [];
  const capacity = { cpu: String(f.cpus), memory: `${f.memoryKiB}Ki`, pods: String(MAX_PODS) };
  return {
    ...current,
    addresses: [
      { type: 'InternalIP', address: f.underlayIP },
      { type: 'Hostname', address: f.nodeName },
    ],
    capacity,
    allocatable: { ...capacity, memory: `${Math.max(0, f.memoryKiB - EVICTION_MEMORY_KIB)}Ki` },
    conditions: [...previous.filter((c) => !KUBELET_CONDITIONS.has(c.type)), ...kubeletConditions(networkReady, previous, now)],
    nodeInfo: {
      machineID: f.machineID,
      systemUUID: f.machineID,
      bootID: f.bootID,
      kernelVersion: f.kernelVersion,
      osImage: f.osImage,
      containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: f.architecture,
    },
  };
}

/** Create the Node, or add the kubelet's labels to the one already there (a restart, or a re-registration). */
export async function registerNode(client: Client, f: NodeFacts): Promise<void> {
  const labels = nodeLabels(f);
  const annotations: Record<string, string> = {
    'node.alpha.kubernetes.io/ttl': '0',
    'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
    ...(f.nodeIndex !== undefined ? { [NODE_INDEX_ANNOTATION]: String(f.nodeIndex) } : {}),
  };
  try {
    await client.create<Node>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: f.nodeName, labels, annotations }, spec: {} });
  } catch (e) {
    if (!isApiError(e) || e.code !== 409) throw e;
    await client.patch(NODES, undefined, f.nodeName, { metadata: { labels, annotations } });
  }
}

/** Post the status once; a conflict with another writer (flannel) is retried with the fresh object. */
export async function postNodeStatus(client: Client, f: NodeFacts, networkReady: boolean): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const node = await client.get<Node>(NODES, undefined, f.nodeName);
    try {
      await client.updateStatus(NODES, undefined, { ...node, status: nodeStatus(f, networkReady, node.status, rfc3339(Date.now())) });
      return;
    } catch (e) {
      if (!isApiError(e) || e.code !== 409) throw e;
    }
  }
}
