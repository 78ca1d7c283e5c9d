// An in-memory iptables: the chains and rules of each table of one network namespace, changed the
// way iptables-restore --noflush changes them. A declared chain is created or flushed, rules are
// appended, "-X" deletes; the transaction is all-or-nothing and fails, like the kernel, when a
// deleted chain is still referenced or a rule jumps to a KUBE-* chain that does not exist.

import { quoteArg, type IptablesBackend, type IptablesTable } from './backend.js';
import { parseDump, ruleWords, serializeDump, type DumpTable } from './dump.js';

const BUILTIN_CHAINS: Record<string, readonly string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

type Tables = Map<string, Map<string, string[]>>;

export class RestoreError extends Error {
  constructor(message: string) {
    super(`iptables-restore: ${message}`);
    this.name = 'RestoreError';
  }
}

/** The chain a rule jumps or goes to, if any. */
export function ruleTarget(rule: string): string | undefined {
  const words = ruleWords(rule);
  const at = words.findIndex((w) => w === '-j' || w === '--jump' || w === '-g' || w === '--goto');
  return at >= 0 ? words[at + 1] : undefined;
}

function emptyTable(name: string): Map<string, string[]> {
  return new Map((BUILTIN_CHAINS[name] ?? []).map((chain) => [chain, [] as string[]]));
}

export class RulesetModel implements IptablesBackend {
  private tables: Tables = new Map();

  /** Rules of a chain ("-A CHAIN ..." lines), or undefined when the chain does not exist. */
  rules(table: string, chain: string): readonly string[] | undefined {
    return this.tables.get(table)?.get(chain);
  }

  chains(table: string): string[] {
    return [...(this.tables.get(table)?.keys() ?? [])];
  }

  /** Applies restore text with --noflush semantics; throws RestoreError and keeps the old state on failure. */
  applyRestore(text: string): void {
    let parsed: DumpTable[];
    try {
      parsed = parseDump(text, { allowUndeclared: true });
    } catch (err) {
      throw new RestoreError((err as Error).message);
    }
    const next: Tables = new Map([...this.tables].map(([name, chains]) => [name, new Map([...chains].map(([c, r]) => [c, [...r]]))]));
    for (const dumpTable of parsed) {
      let table = next.get(dumpTable.name);
      if (table === undefined) next.set(dumpTable.name, (table = emptyTable(dumpTable.name)));
      for (const chain of dumpTable.chains) {
        const existing = table.get(chain.name);
        if (chain.declared) table.set(chain.name, [...chain.rules]);
        else if (existing !== undefined) existing.push(...chain.rules);
        else throw new RestoreError(`${dumpTable.name}: chain ${chain.name} does not exist`);
      }
      for (const chain of dumpTable.chains) {
        if (!chain.deleted) continue;
        if (BUILTIN_CHAINS[dumpTable.name]?.includes(chain.name)) throw new RestoreError(`cannot delete built-in chain ${chain.name}`);
        table.delete(chain.name);
      }
      validateReferences(dumpTable.name, table);
    }
    this.tables = next;
  }

  /** Appends one rule directly, as `iptables -A` would (used to set up scenarios). */
  appendRule(table: IptablesTable, chain: string, args: readonly string[]): void {
    const rules = this.tableOf(table).get(chain);
    if (rules === undefined) throw new RestoreError(`chain ${chain} does not exist in table ${table}`);
    rules.push(['-A', chain, ...args.map(quoteArg)].join(' '));
  }

  /** iptables-save style text of every table (or one). */
  save(table?: string): string {
    const names = table === undefined ? [...this.tables.keys()] : [table];
    const dump: DumpTable[] = names.map((name) => ({
      name,
      chains: [...(this.tables.get(name) ?? new Map<string, string[]>())].map(([chain, rules]) => ({
        name: chain,
        policy: BUILTIN_CHAINS[name]?.includes(chain) ? 'ACCEPT' : '-',
        packets: '0',
        bytes: '0',
        rules,
        deleted: false,
        declared: true,
      })),
    }));
    return serializeDump(dump);
  }

  async listChains(table: IptablesTable): Promise<string[]> {
    return this.chains(table);
  }

  async restore(text: string): Promise<void> {
    this.applyRestore(text);
  }

  async ensureChain(table: IptablesTable, chain: string): Promise<void> {
    const t = this.tableOf(table);
    if (!t.has(chain)) t.set(chain, []);
  }

  async ensureRuleFirst(table: IptablesTable, chain: string, args: readonly string[]): Promise<void> {
    const rules = this.tableOf(table).get(chain);
    if (rules === undefined) throw new RestoreError(`chain ${chain} does not exist in table ${table}`);
    const rule = ['-A', chain, ...args.map(quoteArg)].join(' ');
    if (!rules.includes(rule)) rules.unshift(rule);
  }

  private tableOf(table: string): Map<string, string[]> {
    let t = this.tables.get(table);
    if (t === undefined) this.tables.set(table, (t = emptyTable(table)));
    return t;
  }
}

function validateReferences(tableName: string, table: Map<string, string[]>): void {
  for (const [chain, rules] of table) {
    for (const rule of rules) {
      const target = ruleTarget(rule);
      if (target !== undefined && target.startsWith('KUBE-') && !table.has(target)) {
        throw new RestoreError(`${tableName}/${chain}: jump to missing or deleted chain ${target}`);
      }
    }
  }
}
