// A Pod's sandbox: what containerd's pause container holds on a real node, here kernel objects that
// persist on their own. A network namespace registered under /run/netns (the CNI plugin attaches it
// to cni0) and a UTS namespace bind-mounted on a file (so it keeps the Pod's hostname with no process
// holding it), plus /etc/netns/<netns>/{resolv.conf,hosts}, which `ip netns exec` mounts over /etc.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { recordResource } from '../cni/topology/ledger.js';
import { exec } from '../sys/exec.js';
import { createNetns, deleteNetns, netnsExists } from '../sys/netns.js';

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

// Each step creates what is missing and records it in the ledger before it happens. The two
// namespaces do not depend on each other, so the kubelet makes the UTS one while CNI wires the other.

/** The Pod's network namespace. */
export async function ensureNetns(spec: Pick<SandboxSpec, 'stateDir' | 'netns'>): Promise<void> {
  if (netnsExists(spec.netns)) return;
  recordResource(spec.stateDir, { kind: 'netns', name: spec.netns });
  await createNetns(spec.netns);
}

/** The Pod's UTS namespace with its hostname, bind-mounted on utsFile. */
export async function ensureUts(spec: Pick<SandboxSpec, 'stateDir' | 'utsFile' | 'hostname'>): Promise<void> {
  if (isMounted(spec.utsFile)) return;
  fs.mkdirSync(path.dirname(spec.utsFile), { recursive: true });
  fs.closeSync(fs.openSync(spec.utsFile, 'a'));
  recordResource(spec.stateDir, { kind: 'mount', name: spec.utsFile });
  // unshare makes a new UTS namespace, bind-mounts it on the file and runs hostname inside it.
  await exec('unshare', [`--uts=${spec.utsFile}`, 'hostname', spec.hostname]);
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
