// `kemu exec POD -- CMD` and `kemu exec node/NAME -- CMD`: the argv that runs CMD where the Pod's
// (or the node's) processes run. In a Pod that is its UTS and network namespaces with its
// resolv.conf and hosts mounted over /etc — exactly how its containers were started.

import { netnsPath } from '../sys/netns.js';
import { inPodArgv } from './containers.js';
import { loadPodRecords, type PodRecord } from './pod-record.js';

/** The record of the Pod with this uid on any node of the cluster, or undefined. */
export function findPodRecord(stateDir: string, nodes: readonly string[], uid: string): { node: string; record: PodRecord } | undefined {
  for (const node of nodes) {
    const record = loadPodRecords(stateDir, node).find((r) => r.uid === uid);
    if (record && !record.sandboxGone) return { node, record };
  }
  return undefined;
}

export function execInPodArgv(record: Pick<PodRecord, 'utsFile' | 'netns'>, command: readonly string[]): string[] {
  return inPodArgv(record, command);
}

/** A node has no UTS namespace of its own in kemu, only its network namespace. */
export function execOnNodeArgv(nodeNetns: string, command: readonly string[]): string[] {
  return ['nsenter', `--net=${netnsPath(nodeNetns)}`, '--', ...command];
}
