// A Pod's sandbox: what containerd's pause container holds on a real node, here kernel objects that
// persist on their own. A network namespace registered under /run/netns (the CNI plugin attaches it
// to cni0) and a UTS namespace bind-mounted on a file (so it keeps the Pod's hostname with no process
// holding it), plus /etc/netns/<netns>/{resolv.conf,hosts}, which `ip netns exec` mounts over /etc.
// One `unshare` makes both namespaces; CNI then wires the network one.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { recordResource } from '../cni/topology/ledger.js';
import { exec } from '../sys/exec.js';
import { createNetns, deleteNetns, NETNS_DIR, netnsExists, netnsPath } from '../sys/netns.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** <cluster>-<8 hex of the Pod's uid>: unique per Pod, and carries the cluster's name for `kemu down`. */
export function podNetnsName(cluster: string, uid: string): string {
  return `${cluster}-${sha256(uid).slice(0, 8)}`;
}

/** The sandbox's CNI container ID: 64 hex digits like containerd's, derived so a restart finds it again. */
export function sandboxID(uid: string): string {
  return sha256(`sandbox/${uid}`);
}

export function podUtsFile(stateDir: string, node: string, uid: string): string {
  return path.join(stateDir, 'nodes', node, 'pods', uid, 'uts');
}

/** Where `ip netns exec <netns>` finds the files it bind-mounts over /etc. */
export function etcNetnsDir(netns: string): string {
  return path.join('/etc/netns', netns);
}

/** True when something (the UTS namespace) is mounted on file: it is on another device than its directory. */
function isMounted(file: string): boolean {
  try {
    return fs.statSync(file).dev !== fs.statSync(path.dirname(file)).dev;
  } catch {
    return false;
  }
}

export interface SandboxSpec {
  stateDir: string;
  netns: string;
  utsFile: string;
  hostname: string;
}

// Each step creates what is missing and records it in the ledger before it happens.

let netnsDirShared = false;

/**
 * True once /run/netns is a shared mount point, which `ip netns add` makes it (the nodes' namespaces
 * are made that way first): a namespace bind-mounted there then shows in every mount namespace.
 */
function netnsDirReady(): boolean {
  if (!netnsDirShared) {
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    netnsDirShared = mounts.some((m) => m.split(' ')[4] === NETNS_DIR && / shared:\d+/.test(m));
  }
  return netnsDirShared;
}

/**
 * The Pod's network namespace registered under /run/netns, and its UTS namespace with its hostname
 * bind-mounted on utsFile — both made by one `unshare` (which bind-mounts each new namespace on its
 * file, as `ip netns add` does for the network one): one process started per Pod instead of two.
 */
export async function ensureNamespaces(spec: SandboxSpec): Promise<void> {
  const makeNet = !netnsExists(spec.netns);
  const makeUts = !isMounted(spec.utsFile);
  if (!makeNet && !makeUts) return;
  const args: string[] = [];
  const netFile = netnsPath(spec.netns);
  if (makeNet) {
    recordResource(spec.stateDir, { kind: 'netns', name: spec.netns });
    if (netnsDirReady()) {
      // the mount point must exist; ip netns add makes it the same way (empty, mode 0)
      fs.closeSync(fs.openSync(netFile, 'wx', 0));
      args.push(`--net=${netFile}`);
    } else {
      await createNetns(spec.netns);
    }
  }
  if (makeUts) {
    fs.mkdirSync(path.dirname(spec.utsFile), { recursive: true });
    fs.closeSync(fs.openSync(spec.utsFile, 'a'));
    recordResource(spec.stateDir, { kind: 'mount', name: spec.utsFile });
    args.push(`--uts=${spec.utsFile}`);
  }
  if (args.length === 0) return;
  try {
    await exec('unshare', [...args, ...(makeUts ? ['hostname', spec.hostname] : ['true'])]);
  } catch (e) {
    // an empty file under /run/netns would pass for a namespace on the next try
    if (args.includes(`--net=${netFile}`) && !isMounted(netFile)) fs.rmSync(netFile, { force: true });
    throw e;
  }
}

/** Writes resolv.conf and hosts for the Pod's `ip netns exec` (only when they changed). */
export function writeEtcFiles(netns: string, files: { 'resolv.conf': string; hosts: string }): void {
  const dir = etcNetnsDir(netns);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    try {
      if (fs.readFileSync(file, 'utf8') === text) continue;
    } catch {
      // not written yet
    }
    fs.writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
    fs.renameSync(`${file}.tmp`, file);
  }
}

/** Remove the sandbox; anything already gone is fine. */
export async function removeSandbox(spec: Pick<SandboxSpec, 'netns' | 'utsFile'>): Promise<void> {
  if (isMounted(spec.utsFile)) await exec('umount', [spec.utsFile]);
  fs.rmSync(path.dirname(spec.utsFile), { recursive: true, force: true });
  fs.rmSync(etcNetnsDir(spec.netns), { recursive: true, force: true });
  await deleteNetns(spec.netns);
}
