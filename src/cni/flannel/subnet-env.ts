// /run/flannel/subnet.env, the file the CNI side reads to learn the node's subnet and MTU. Lines in
// flannel's order; FLANNEL_SUBNET is the subnet's first host (the cni0 gateway) with the lease's
// prefix length, not the network address.

import fs from 'node:fs';
import path from 'node:path';
import { formatPrefix, networkOf, parsePrefix } from '../plugin/ipv4.js';

export interface SubnetEnv {
  network: string;
  subnet: string;
  mtu: number;
  ipMasq: boolean;
}

export function subnetEnvText(env: SubnetEnv): string {
  const p = parsePrefix(env.subnet);
  if (p === undefined) throw new Error(`invalid pod subnet ${JSON.stringify(env.subnet)}`);
  return [
    `FLANNEL_NETWORK=${env.network}`,
    `FLANNEL_SUBNET=${formatPrefix(networkOf(p) + 1, p.length)}`,
    `FLANNEL_MTU=${env.mtu}`,
    `FLANNEL_IPMASQ=${env.ipMasq}`,
  ].join('\n').concat('\n');
}

/** <stateDir>/nodes/<node>/run/flannel/subnet.env: the node's /run, kept in the cluster's state dir. */
export function subnetEnvPath(stateDir: string, node: string): string {
  return path.join(stateDir, 'nodes', node, 'run', 'flannel', 'subnet.env');
}

/** Writes the file atomically (readers never see half of it); false when it already had this text. */
export function writeSubnetEnv(file: string, text: string): boolean {
  try {
    if (fs.readFileSync(file, 'utf8') === text) return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
  return true;
}

/** Parse a subnet.env back into its variables (for the CNI side and checks). */
export function parseSubnetEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return vars;
}
