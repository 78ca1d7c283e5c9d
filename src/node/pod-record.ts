// What the kubelet remembers about each Pod it runs, in <stateDir>/nodes/<node>/pods/<uid>.json,
// so that a restarted kubelet re-adopts the Pod's namespaces and processes instead of starting
// them again. Written atomically after every change.

import fs from 'node:fs';
import path from 'node:path';
import type { BackoffEntry } from './backoff.js';

export interface Termination {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
}

/** One container across its restarts. */
export interface ContainerRun {
  name: string;
  restartCount: number;
  /** The running instance: pid plus its start time in clock ticks (/proc/<pid>/stat), which tells a reused pid apart. */
  pid?: number;
  pidStartTicks?: number;
  containerID?: string;
  startedAt?: string;
  /** The current instance exited. */
  terminated?: Termination;
  /** The instance before the current one. */
  lastTerminated?: Termination;
  /** Why it is not running (image errors, config errors). */
  waiting?: { reason: string; message?: string };
  backoff?: BackoffEntry;
}

export interface PodRecord {
  uid: string;
  namespace: string;
  name: string;
  /** Name of the Pod's network namespace under /run/netns. */
  netns: string;
  /** Bind-mounted UTS namespace file. */
  utsFile: string;
  /** The CNI container ID of the sandbox. */
  sandboxID: string;
  podIP?: string;
  startTime: string;
  containers: ContainerRun[];
  /** The sandbox was torn down (a finished Pod keeps its record until deleted). */
  sandboxGone?: boolean;
}

export function podRecordDir(stateDir: string, node: string): string {
  return path.join(stateDir, 'nodes', node, 'pods');
}

export function podRecordFile(stateDir: string, node: string, uid: string): string {
  return path.join(podRecordDir(stateDir, node), `${uid}.json`);
}

export function savePodRecord(stateDir: string, node: string, record: PodRecord): void {
  const file = podRecordFile(stateDir, node, record.uid);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

export function removePodRecord(stateDir: string, node: string, uid: string): void {
  fs.rmSync(podRecordFile(stateDir, node, uid), { force: true });
}

/** Every record on disk; unreadable ones (a crash mid-write leaves only a .tmp) are skipped. */
export function loadPodRecords(stateDir: string, node: string): PodRecord[] {
  const dir = podRecordDir(stateDir, node);
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const records: PodRecord[] = [];
  for (const f of files) {
    try {
      records.push(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as PodRecord);
    } catch {
      continue;
    }
  }
  return records;
}
