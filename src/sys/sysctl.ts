// Kernel parameters under /proc/sys/net, which are per network namespace: /proc/sys/net shows the
// namespace of the process that opens it. In our own namespace we read and write the files; in
// another one we run `sysctl` there (one process for the whole list).
//
// Keys use the slash form (net/ipv4/conf/flannel.1/rp_filter) or the dotted form when no interface
// name with a dot is involved (net.ipv4.ip_forward).

import fs from 'node:fs';
import { execIn } from './netns.js';
import type { Netns } from './netns.js';

export interface SysctlSetting {
  key: string;
  value: string | number;
  /** Skip silently when the key does not exist (e.g. IPv6 disabled, br_netfilter not loaded). */
  optional?: boolean;
}

/** 'net.ipv4.ip_forward' → 'net/ipv4/ip_forward'; keys with a slash are already in file form. */
export function sysctlFileKey(key: string): string {
  return key.includes('/') ? key.replace(/^\/+/, '') : key.replaceAll('.', '/');
}

export function sysctlFile(key: string): string {
  return `/proc/sys/${sysctlFileKey(key)}`;
}

export async function readSysctl(ns: Netns | undefined, key: string): Promise<string> {
  if (ns === undefined) return (await fs.promises.readFile(sysctlFile(key), 'utf8')).trim();
  const { stdout } = await execIn(ns, 'sysctl', ['-n', sysctlFileKey(key)]);
  return stdout.trim();
}

export async function writeSysctls(ns: Netns | undefined, settings: readonly SysctlSetting[]): Promise<void> {
  if (settings.length === 0) return;
  if (ns === undefined) {
    for (const s of settings) {
      try {
        await fs.promises.writeFile(sysctlFile(s.key), String(s.value));
      } catch (e) {
        if (s.optional && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new Error(`cannot set ${sysctlFileKey(s.key)}=${s.value}: ${(e as Error).message}`);
      }
    }
    return;
  }
  const assignments = (list: readonly SysctlSetting[]) => list.map((s) => `${sysctlFileKey(s.key)}=${s.value}`);
  const required = settings.filter((s) => !s.optional);
  const optional = settings.filter((s) => s.optional);
  // -e: ignore unknown keys, only for the optional ones.
  if (required.length > 0) await execIn(ns, 'sysctl', ['-q', '-w', ...assignments(required)]);
  if (optional.length > 0) await execIn(ns, 'sysctl', ['-q', '-e', '-w', ...assignments(optional)]);
}
