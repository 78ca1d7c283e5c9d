// Object builders for the controller tests: just the fields the controllers read.

import type { Deployment, Node, Pod, ReplicaSet, Service } from '../../src/api/types.js';

let uidCounter = 0;
const uid = () => `uid-${++uidCounter}`;

export function t(secondsAgo: number, nowMs = Date.parse('2024-01-01T00:10:00Z')): string {
  return new Date(nowMs - secondsAgo * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export const NOW = Date.parse('2024-01-01T00:10:00Z');

export function pod(name: string, opts: {
  ns?: string; owner?: { kind: string; name: string; uid: string }; node?: string; phase?: NonNullable<Pod['status']>['phase'];
  ready?: boolean; readySince?: number; created?: number; ip?: string; labels?: Record<string, string>; deleting?: boolean; restarts?: number;
  ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[]; hostname?: string; subdomain?: string;
} = {}): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.ns ?? 'default', uid: uid(), labels: opts.labels ?? { app: 'web' }, creationTimestamp: t(opts.created ?? 100) },
    spec: { containers: [{ name: 'c', ports: opts.ports }] },
    status: { phase: opts.phase ?? (opts.node ? 'Running' : 'Pending') },
  };
  if (opts.owner) p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: opts.owner.kind, name: opts.owner.name, uid: opts.owner.uid, controller: true }];
  if (opts.node) p.spec.nodeName = opts.node;
  if (opts.hostname) p.spec.hostname = opts.hostname;
  if (opts.subdomain) p.spec.subdomain = opts.subdomain;
  if (opts.ip) p.status!.podIP = opts.ip;
  if (opts.deleting) p.metadata.deletionTimestamp = t(0);
  if (opts.ready !== undefined) {
    p.status!.conditions = [{ type: 'Ready', status: opts.ready ? 'True' : 'False', lastTransitionTime: t(opts.readySince ?? 60) }];
  }
  if (opts.restarts !== undefined) p.status!.containerStatuses = [{ name: 'c', image: 'x', ready: !!opts.ready, restartCount: opts.restarts }];
  return p;
}

export function replicaSet(name: string, replicas: number, opts: { uid?: string; minReadySeconds?: number; generation?: number; status?: ReplicaSet['status'] } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', uid: opts.uid ?? uid(), generation: opts.generation ?? 1, creationTimestamp: t(300) },
    spec: {
      replicas,
      minReadySeconds: opts.minReadySeconds,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
    status: opts.status,
  };
}

export function deployment(replicas: number, opts: { image?: string; strategy?: Deployment['spec']['strategy']; generation?: number; status?: Deployment['status']; revisionHistoryLimit?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'deploy-uid', generation: opts.generation ?? 1, creationTimestamp: t(600) },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: opts.image ?? 'nginx:1' }] } },
      strategy: opts.strategy,
      revisionHistoryLimit: opts.revisionHistoryLimit,
    },
    status: opts.status,
  };
}

export function node(name: string, opts: { ready?: boolean; labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints']; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: uid(), labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

export function service(name: string, opts: { ports?: Service['spec']['ports']; selector?: Record<string, string>; headless?: boolean; publishNotReady?: boolean } = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: `svc-${name}` },
    spec: {
      selector: opts.selector ?? { app: 'web' },
      ports: opts.ports ?? [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      clusterIP: opts.headless ? 'None' : '10.96.0.20',
      publishNotReadyAddresses: opts.publishNotReady,
    },
  };
}
