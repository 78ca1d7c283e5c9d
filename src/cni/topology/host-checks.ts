// What `kemu up` needs from the host before it creates anything: the programs it runs (named with
// the Debian package that ships them), the reference CNI plugins its conflist chains, and the kernel features the chosen backend uses. Each check
// fails with what to install or which option to choose instead, so a missing piece is reported
// before the first namespace exists and nothing is left half-made.

import fs from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from '../../api/cluster.js';
import { exec } from '../../sys/exec.js';
import { REFERENCE_PLUGIN_DIR } from '../runtime.js';

/** A program kemu runs, and the Debian package it comes in. */
export interface Tool {
  program: string;
  debianPackage: string;
}

/** The programs a cluster with this config runs on the host and in its namespaces. */
export function requiredTools(config: Pick<ClusterConfig, 'proxyMode'>): Tool[] {
  const tools: Tool[] = [
    { program: 'ip', debianPackage: 'iproute2' },
    { program: 'bridge', debianPackage: 'iproute2' },
    { program: 'nsenter', debianPackage: 'util-linux' },
    { program: 'unshare', debianPackage: 'util-linux' },
    { program: 'flock', debianPackage: 'util-linux' },
    { program: 'umount', debianPackage: 'mount' },
    { program: 'sysctl', debianPackage: 'procps' },
    // flannel's FLANNEL-POSTRTG / FLANNEL-FWD chains are iptables rules in every mode
    { program: 'iptables', debianPackage: 'iptables' },
    { program: 'iptables-save', debianPackage: 'iptables' },
    { program: 'iptables-restore', debianPackage: 'iptables' },
  ];
  if (config.proxyMode === 'nftables') tools.push({ program: 'nft', debianPackage: 'nftables' });
  return tools;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The tools none of the PATH directories holds as an executable file. */
export function missingTools(tools: readonly Tool[], pathVariable: string): Tool[] {
  const dirs = pathVariable.split(':').filter(Boolean);
  return tools.filter((t) => !dirs.some((d) => isExecutable(path.join(d, t.program))));
}

/** The error for missing tools: the programs, and one apt-get line for their packages. */
export function missingToolsMessage(missing: readonly Tool[]): string {
  const packages = [...new Set(missing.map((t) => t.debianPackage))];
  const list = missing.map((t) => `${t.program} (Debian package ${t.debianPackage})`).join(', ');
  return `kemu up needs programs that are not in PATH: ${list}; install them with: apt-get install ${packages.join(' ')}`;
}

/** The reference CNI plugins every node's conflist chains after kemu-cni (portmap, for hostPorts). */
const REFERENCE_PLUGINS: readonly Tool[] = [{ program: 'portmap', debianPackage: 'containernetworking-plugins' }];

/** The error for missing reference plugins: where they were looked for and the package that has them. */
export function missingPluginsMessage(missing: readonly Tool[], dir: string): string {
  const packages = [...new Set(missing.map((t) => t.debianPackage))];
  return `kemu up needs the CNI plugins ${missing.map((t) => t.program).join(', ')} in ${dir}; install them with: apt-get install ${packages.join(' ')}`;
}

/** What the kernel said when a VXLAN device could not be made, turned into what to do about it. */
export function vxlanProbeMessage(kernelSays: string): string {
  return (
    `the vxlan backend needs VXLAN devices, which this kernel refused (ip link add type vxlan: ${kernelSays.trim() || 'failed'}): ` +
    'load the vxlan module (modprobe vxlan; kernel option CONFIG_VXLAN), or use --backend host-gw'
  );
}

/**
 * Creates a VXLAN device like flannel.1 in a throwaway network namespace (`unshare --net`: the
 * namespace and the device vanish with the process), so the check touches nothing of the host.
 * Returns the problem, or undefined when VXLAN works.
 */
export async function probeVxlan(): Promise<string | undefined> {
  const r = await exec('unshare', ['--net', 'ip', 'link', 'add', 'kemu-probe', 'type', 'vxlan', 'id', '1', 'dstport', '8472', 'nolearning'], {
    allowFailure: true,
    timeoutMs: 10_000,
  });
  return r.code === 0 ? undefined : vxlanProbeMessage(r.stderr);
}

/** Every check for this config; the first problem found, or undefined when the host has it all. */
export async function hostProblem(
  config: Pick<ClusterConfig, 'proxyMode' | 'backend'>,
  pathVariable = process.env.PATH ?? '',
  pluginDir = REFERENCE_PLUGIN_DIR,
): Promise<string | undefined> {
  const missing = missingTools(requiredTools(config), pathVariable);
  if (missing.length > 0) return missingToolsMessage(missing);
  const missingPlugins = missingTools(REFERENCE_PLUGINS, pluginDir);
  if (missingPlugins.length > 0) return missingPluginsMessage(missingPlugins, pluginDir);
  return config.backend === 'vxlan' ? probeVxlan() : undefined;
}
