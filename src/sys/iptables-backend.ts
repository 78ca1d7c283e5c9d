// The iptables proxier's backend on a real kernel: iptables-restore --noflush --counters for the
// ruleset transaction (a full sync: iptables-save -c, the transaction applied to that text, one
// plain restore of the tables — see flush-restore.ts for why), iptables-save for the chains that
// exist, iptables -N / -C / -I for the jumps from the built-in chains, and iptables -S for the canary. With a netns every command runs inside it (nsenter), so rules
// never land in the host's namespace.

import type { IptablesBackend, IptablesTable } from '../proxy/iptables/backend.js';
import { flushRestoreInput } from '../proxy/iptables/flush-restore.js';
import { iptablesSave } from './iptables.js';
import { execIn, type Netns } from './netns.js';

/** Seconds to wait for the xtables lock, which is one file shared by every namespace on the host. */
const LOCK_WAIT = ['-w', '5'];
const TIMEOUT_MS = 30_000;
/** iptables' exit code when it could not try (upstream iptablesStatusResourceProblem). */
const RESOURCE_PROBLEM = 4;
/** A full sync of 10,000 Services takes ~13 s on an idle host; leave room for a busy one. */
const FULL_SYNC_TIMEOUT_MS = 180_000;

/** Chain names declared in iptables-save output (":NAME POLICY [p:b]" lines), in order. */
export function chainNamesFromSave(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(':')) continue;
    const name = line.slice(1).split(/\s+/)[0];
    if (name) names.push(name);
  }
  return names;
}

export class KernelIptablesBackend implements IptablesBackend {
  constructor(private readonly netns?: Netns) {}

  async listChains(table: IptablesTable): Promise<string[]> {
    return chainNamesFromSave(await iptablesSave(this.netns, table));
  }

  async restore(text: string, opts: { fullSync?: boolean } = {}): Promise<void> {
    if (!opts.fullSync) {
      await execIn(this.netns, 'iptables-restore', [...LOCK_WAIT, '--noflush', '--counters'], { input: text, timeoutMs: TIMEOUT_MS });
      return;
    }
    // Rules another component adds between the save and the restore would be lost; flannel
    // re-checks its rules and puts them back, and full syncs are rare (startup, hourly, failures).
    const saved = await execIn(this.netns, 'iptables-save', ['-c'], { timeoutMs: FULL_SYNC_TIMEOUT_MS });
    const input = flushRestoreInput(saved.stdout, text);
    await execIn(this.netns, 'iptables-restore', [...LOCK_WAIT, '--counters'], { input, timeoutMs: FULL_SYNC_TIMEOUT_MS });
  }

  async ensureChain(table: IptablesTable, chain: string): Promise<void> {
    const r = await execIn(this.netns, 'iptables', [...LOCK_WAIT, '-t', table, '-N', chain], { allowFailure: true, timeoutMs: TIMEOUT_MS });
    if (r.code === 0 || /already exists/i.test(r.stderr)) return;
    throw new Error(`iptables -t ${table} -N ${chain}: exit code ${r.code}: ${r.stderr.trim()}`);
  }

  /** `iptables -S CHAIN`: exit 0 when it exists; exit 4 (resource problem, e.g. the lock) is an error. */
  async chainExists(table: IptablesTable, chain: string): Promise<boolean> {
    const r = await execIn(this.netns, 'iptables', [...LOCK_WAIT, '-t', table, '-S', chain], { allowFailure: true, timeoutMs: TIMEOUT_MS });
    if (r.code === RESOURCE_PROBLEM) throw new Error(`iptables -t ${table} -S ${chain}: ${r.stderr.trim()}`);
    return r.code === 0;
  }

  async ensureRuleFirst(table: IptablesTable, chain: string, args: readonly string[]): Promise<void> {
    const check = await execIn(this.netns, 'iptables', [...LOCK_WAIT, '-t', table, '-C', chain, ...args], {
      allowFailure: true,
      timeoutMs: TIMEOUT_MS,
    });
    if (check.code === 0) return;
    await execIn(this.netns, 'iptables', [...LOCK_WAIT, '-t', table, '-I', chain, '1', ...args], { timeoutMs: TIMEOUT_MS });
  }
}
