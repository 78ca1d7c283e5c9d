// iptables inside a namespace through iptables-save / iptables-restore: a component builds the text
// of its own chains and loads it in one transaction with --noflush, so rules of other components
// (kube-proxy, the student's own) in the same tables are left alone. -w waits for the xtables lock,
// which is one file shared by every namespace on the host.

import { execIn, type Netns } from './netns.js';

const LOCK_WAIT_SECONDS = '5';

/** The iptables-save text of one table (or all tables), as `iptables-save` prints it. */
export async function iptablesSave(ns: Netns | undefined, table?: string): Promise<string> {
  const args = table === undefined ? [] : ['-t', table];
  const { stdout } = await execIn(ns, 'iptables-save', args, { timeoutMs: 10_000 });
  return stdout;
}

/** Load rules; with noflush only the chains the text declares are flushed and rebuilt. */
export async function iptablesRestore(ns: Netns | undefined, text: string, options: { noflush: boolean }): Promise<void> {
  const args = ['-w', LOCK_WAIT_SECONDS, ...(options.noflush ? ['--noflush'] : [])];
  await execIn(ns, 'iptables-restore', args, { input: text, timeoutMs: 10_000 });
}
