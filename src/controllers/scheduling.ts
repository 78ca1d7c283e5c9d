// The scheduler's decision as a pure function: filter the nodes a Pod may run on (unschedulable,
// untolerated NoSchedule/NoExecute taints — a NotReady node counts as tainted
// node.kubernetes.io/not-ready, as the node lifecycle controller would taint it — nodeSelector,
// host ports already taken by the node's Pods), then score: fewest Pods of the same owner on the node (spreading replicas), then fewest Pods,
// then name. When nothing fits, the message has kube-scheduler's FitError shape.

import type { Node, Pod, Taint } from '../api/types.js';
import { controllerRef } from './pod-util.js';

export const DEFAULT_SCHEDULER = 'default-scheduler';

type Toleration = NonNullable<Pod['spec']['tolerations']>[number];

export type ScheduleResult = { node: string } | { unschedulable: string };

export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** The taints the scheduler sees, including the not-ready taint for a node that is not Ready. */
function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  if (!isNodeReady(node) && !taints.some((t) => t.key === 'node.kubernetes.io/not-ready')) {
    taints.push({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
  }
  return taints;
}

/** upstream Toleration.ToleratesTaint */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** A host port a Pod asks for; hostIP "" is every address, as kube-scheduler's HostPortInfo reads it. */
interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

function hostPortsOf(pod: Pod): HostPort[] {
  return pod.spec.containers.flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => (p.hostPort ?? 0) > 0)
      .map((p) => ({ ip: p.hostIP && p.hostIP !== '0.0.0.0' ? p.hostIP : '', protocol: p.protocol ?? 'TCP', port: p.hostPort! })),
  );
}

/**
 * kube-scheduler's NodePorts filter: a wanted host port conflicts with a used one of the same
 * protocol and number when either binds every address or both bind the same one.
 */
export function hostPortsConflict(pod: Pod, podsOnNode: Pod[]): boolean {
  const wanted = hostPortsOf(pod);
  if (wanted.length === 0) return false;
  const used = podsOnNode.flatMap(hostPortsOf);
  return wanted.some((w) => used.some((u) => u.protocol === w.protocol && u.port === w.port && (u.ip === '' || w.ip === '' || u.ip === w.ip)));
}

/** Why node cannot take pod, in kube-scheduler's words, or undefined when it can. podsOnNode: the Pods placed there. */
export function filterNode(pod: Pod, node: Node, podsOnNode: Pod[] = []): string | undefined {
  if (node.spec?.unschedulable) {
    const tolerated = (pod.spec.tolerations ?? []).some((t) => tolerates(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }));
    if (!tolerated) return "node(s) were unschedulable";
  }
  const untolerated = effectiveTaints(node).find(
    (taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !(pod.spec.tolerations ?? []).some((t) => tolerates(t, taint)),
  );
  if (untolerated) return `node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`;
  const labels = node.metadata.labels ?? {};
  if (Object.entries(pod.spec.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) {
    return "node(s) didn't match Pod's node affinity/selector";
  }
  if (hostPortsConflict(pod, podsOnNode)) return "node(s) didn't have free ports for the requested pod ports";
  return undefined;
}

/** kube-scheduler's FitError message plus the default preemption post-filter's verdict. */
export function unschedulableMessage(nodeCount: number, reasons: string[]): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const histogram = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return (
    `0/${nodeCount} nodes are available: ${histogram.join(', ')}. ` +
    `preemption: 0/${nodeCount} nodes are available: ${nodeCount} Preemption is not helpful for scheduling.`
  );
}

/** Pods that occupy a node: bound and not finished. */
function occupies(p: Pod): boolean {
  return !!p.spec.nodeName && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

/** pods: every Pod the scheduler knows to be placed (including its own bindings not yet observed). */
export function schedulePod(pod: Pod, nodes: Node[], pods: Pod[]): ScheduleResult {
  const placed = pods.filter(occupies);
  const podsOn = (node: Node) => placed.filter((p) => p.spec.nodeName === node.metadata.name);
  const reasons: string[] = [];
  const fits: Node[] = [];
  for (const node of nodes) {
    const why = filterNode(pod, node, podsOn(node));
    if (why) reasons.push(why);
    else fits.push(node);
  }
  if (fits.length === 0) return { unschedulable: unschedulableMessage(nodes.length, reasons) };

  const owner = controllerRef(pod)?.uid;
  const score = (node: Node) => {
    const here = podsOn(node);
    const siblings = owner ? here.filter((p) => p.metadata.namespace === pod.metadata.namespace && controllerRef(p)?.uid === owner).length : 0;
    return { siblings, total: here.length, name: node.metadata.name ?? '' };
  };
  const best = fits
    .map(score)
    .sort((a, b) => a.siblings - b.siblings || a.total - b.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
  return { node: best.name };
}

/** Whether the scheduler is responsible for this Pod now. */
export function needsScheduling(pod: Pod): boolean {
  return (
    !pod.spec.nodeName &&
    (pod.spec.schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER &&
    !pod.metadata.deletionTimestamp &&
    pod.status?.phase !== 'Succeeded' &&
    pod.status?.phase !== 'Failed'
  );
}
