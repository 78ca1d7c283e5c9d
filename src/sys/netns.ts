// Named network namespaces, registered under /run/netns exactly like `ip netns add` does, so that
// `ip netns exec`, `ip -n` and tcpdump work on them and a CNI_NETNS can be a plain path.
//
// A namespace is referred to either by its name (a file under /run/netns) or by a path to any netns
// file (e.g. /proc/<pid>/ns/net, which is what some runtimes pass as CNI_NETNS). `undefined` means
// the namespace this process runs in.

import fs from 'node:fs';
import path from 'node:path';
import { exec, type ExecOptions, type ExecResult } from './exec.js';

export const NETNS_DIR = '/run/netns';

/** A name under /run/netns, or a path to a netns file. */
export type Netns = string;

export function netnsPath(ns: Netns): string {
  return ns.includes('/') ? ns : path.join(NETNS_DIR, ns);
}

/** The name under /run/netns that ns refers to (a name, or a path right under /run/netns), if any. */
export function netnsName(ns: Netns): string | undefined {
  if (!ns.includes('/')) return ns;
  return path.dirname(ns) === NETNS_DIR && path.basename(ns) !== '' ? path.basename(ns) : undefined;
}

export function netnsExists(ns: Netns): boolean {
  return fs.existsSync(netnsPath(ns));
}

export async function createNetns(name: string): Promise<void> {
  await exec('ip', ['netns', 'add', name]);
}

/** Delete a named namespace; one that is already gone is fine. */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  await exec('ip', ['netns', 'del', name]);
}

export function listNetns(): string[] {
  try {
    return fs.readdirSync(NETNS_DIR).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Open the namespace file (e.g. to hand its fd to a child); the caller closes it. */
export function openNetns(ns: Netns): Promise<fs.promises.FileHandle> {
  return fs.promises.open(netnsPath(ns), 'r');
}

/**
 * The argv that runs `command args` inside ns. nsenter --net rather than `ip netns exec` because it
 * also takes paths that are not under /run/netns and skips the mount-namespace setup we don't need.
 */
export function argvIn(ns: Netns | undefined, command: string, args: readonly string[]): [string, string[]] {
  if (ns === undefined) return [command, [...args]];
  return ['nsenter', [`--net=${netnsPath(ns)}`, '--', command, ...args]];
}

export function execIn(
  ns: Netns | undefined,
  command: string,
  args: readonly string[],
  options?: ExecOptions,
): Promise<ExecResult> {
  const [cmd, argv] = argvIn(ns, command, args);
  return exec(cmd, argv, options);
}
