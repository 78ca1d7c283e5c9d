// `kemu down`'s host side: remove everything the ledger says this cluster created (processes, bind
// mounts, namespaces, links), then sweep by name for leftovers the ledger does not know about (a state
// directory deleted by hand): this cluster's node namespaces, veths and bridge. Removing something
// already gone is fine, so teardown can run any number of times.

import fs from 'node:fs';
import { exec } from '../../sys/exec.js';
import { ipBatch, showLinks, type BatchLine } from '../../sys/iproute.js';
import { deleteNetns, listNetns, netnsExists } from '../../sys/netns.js';
import { stopProcess } from '../../sys/process.js';
import { clearLedger, readLedger, type ResourceRecord } from './ledger.js';
import { clusterVethPrefix, underlayBridgeName } from './names.js';

export interface TeardownReport {
  removed: ResourceRecord[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Node namespaces of this cluster by kind's naming (exact forms, so cluster `a` never matches `a-b`'s). */
export function isClusterNodeNetns(cluster: string, name: string): boolean {
  return new RegExp(`^${escapeRegExp(cluster)}-(control-plane|worker\\d*)$`).test(name);
}

/** A recorded pid is only signalled while it still runs a kemu command of this cluster (pids get reused). */
function isOurProcess(pid: number, cluster: string): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(cluster) && argv.some((a) => a.includes('kemu') || a === 'node-agent' || a === 'control-plane');
  } catch {
    return false;
  }
}

async function killProcessesIn(netns: string): Promise<void> {
  const { stdout } = await exec('ip', ['netns', 'pids', netns], { allowFailure: true });
  const pids = stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0 && p !== process.pid);
  await Promise.all(pids.map((pid) => stopProcess(pid, 2000)));
}

/** Namespaces and mounts are independent of each other: remove this many at a time. */
const PARALLEL = 16;

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function unmount(target: string): Promise<void> {
  // Lazy: a process still holding the file must not block teardown. "not mounted" is fine.
  await exec('umount', ['-l', target], { allowFailure: true });
}

export async function teardownCluster(cluster: string, stateDir: string): Promise<TeardownReport> {
  const records = readLedger(stateDir);
  const removed: ResourceRecord[] = [];
  const byKind = (kind: ResourceRecord['kind']) => records.filter((r) => r.kind === kind);

  for (const r of byKind('pid')) {
    const pid = Number(r.name);
    if (Number.isInteger(pid) && pid > 0 && isOurProcess(pid, cluster)) {
      await stopProcess(pid, 2000);
      removed.push(r);
    }
  }
  await forEachLimited(byKind('mount'), PARALLEL, async (r) => {
    await unmount(r.name);
    removed.push(r);
  });

  const namespaces = new Set(byKind('netns').map((r) => r.name));
  for (const name of listNetns()) if (isClusterNodeNetns(cluster, name)) namespaces.add(name);
  await forEachLimited([...namespaces], PARALLEL, async (name) => {
    if (!netnsExists(name)) return;
    // Whatever still runs inside a namespace of ours (Pod containers, agents) is ours: `ip netns pids`.
    await killProcessesIn(name);
    await deleteNetns(name); // takes its links with it, and so the root ends of its veths
    // resolv.conf and hosts that `ip netns exec` binds over /etc for this namespace (Pods).
    fs.rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
    removed.push({ kind: 'netns', name });
  });

  // Links recorded in a namespace that still exists, then root links by record and by name pattern.
  const rootLinks = new Set<string>();
  for (const r of byKind('link')) {
    if (r.ns === undefined) rootLinks.add(r.name);
    else if (netnsExists(r.ns)) {
      await ipBatch(r.ns, [{ args: ['link', 'del', r.name], tolerate: 'missing' }]);
      removed.push(r);
    }
  }
  const vethPrefix = clusterVethPrefix(cluster);
  const bridge = underlayBridgeName(cluster);
  const present = new Set((await showLinks(undefined)).map((l) => l.ifname));
  for (const name of present) if (name.startsWith(vethPrefix) || name === bridge) rootLinks.add(name);
  const lines: BatchLine[] = [...rootLinks]
    .filter((name) => present.has(name))
    .map((name) => ({ args: ['link', 'del', name], tolerate: 'missing' }));
  await ipBatch(undefined, lines);
  for (const line of lines) removed.push({ kind: 'link', name: line.args[2] });

  clearLedger(stateDir);
  return { removed };
}
