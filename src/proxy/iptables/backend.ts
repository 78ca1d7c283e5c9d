// What the iptables proxier needs from the kernel side. The real implementation runs
// iptables-save / iptables-restore / iptables -C/-I in the node's namespace (src/sys); the
// in-memory RulesetModel implements it for tests, the packet tracer and dry runs.

export type IptablesTable = 'filter' | 'nat' | 'mangle';

export interface IptablesBackend {
  /** Names of the chains that exist now in a table (iptables-save -t TABLE). */
  listChains(table: IptablesTable): Promise<string[]>;
  /**
   * One transaction with `iptables-restore --noflush --counters` semantics: declared chains are
   * created or flushed, rules appended, "-X" chains deleted, everything else kept. Rejects (and
   * changes nothing) on error. fullSync marks a sync that rewrites every kube-proxy chain, which a
   * backend may apply by another route with the same outcome.
   */
  restore(text: string, opts?: { fullSync?: boolean }): Promise<void>;
  /** `iptables -N` unless the chain exists. */
  ensureChain(table: IptablesTable, chain: string): Promise<void>;
  /** `iptables -C`, then `iptables -I CHAIN 1` when the rule is missing. */
  ensureRuleFirst(table: IptablesTable, chain: string, args: readonly string[]): Promise<void>;
}

/** One rule argument as restore text writes it: quoted when it holds spaces. */
export function quoteArg(arg: string): string {
  return /\s/.test(arg) ? `"${arg}"` : arg;
}
