// A kube-proxy full sync as one plain (flushing) iptables-restore of whole tables. Upstream loads a
// full sync with `iptables-restore --noflush`, which iptables-nft 1.8.9 runs in time quadratic in
// the number of chains: 4.3 s at 1,000 Services, 182 s at 5,000, ~12 min at 10,000, while a plain
// restore of the same tables is linear (13 s at 10,000) — research/baselines.md, finding 5. So the
// kernel backend reads the tables (iptables-save -c), applies the --noflush transaction to that
// text here, and loads the result with a plain restore: every rule kube-proxy does not own
// (flannel's FLANNEL-* chains, other rules in the built-in chains, policies, counters) is written
// back as it was. Linear in the size of the tables: chains are looked up in a Map.

/** One chain of a table: its declaration line and its rule lines, as iptables-save prints them. */
interface SavedChain {
  declaration: string;
  rules: string[];
}

const TABLE_LINE = /^\*(\S+)$/;
const CHAIN_LINE = /^:(\S+) /;
/** A rule line, optionally with iptables-save -c's "[packets:bytes] " prefix. */
const RULE_LINE = /^(?:\[\d+:\d+\] )?-A (\S+)/;
const DELETE_LINE = /^-X (\S+)$/;

export class FlushRestoreError extends Error {}

/** Table name -> its lines between "*table" and COMMIT (comments and blank lines dropped). */
function tableSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const table = TABLE_LINE.exec(line);
    if (table !== null) {
      sections.set(table[1]!, (current = []));
    } else if (line === 'COMMIT') {
      current = undefined;
    } else if (current === undefined) {
      throw new FlushRestoreError(`line outside a table: ${line}`);
    } else current.push(line);
  }
  return sections;
}

/** Applies one --noflush section to a saved table, in place. */
function applySection(table: string, chains: Map<string, SavedChain>, lines: readonly string[]): void {
  for (const line of lines) {
    const declared = CHAIN_LINE.exec(line);
    if (declared !== null) {
      const existing = chains.get(declared[1]!);
      // Declaring an existing chain flushes it and keeps its policy and counters.
      if (existing !== undefined) existing.rules = [];
      else chains.set(declared[1]!, { declaration: line, rules: [] });
      continue;
    }
    const rule = RULE_LINE.exec(line);
    if (rule !== null) {
      const chain = chains.get(rule[1]!);
      if (chain === undefined) throw new FlushRestoreError(`${table}: chain ${rule[1]} does not exist`);
      chain.rules.push(line);
      continue;
    }
    const deleted = DELETE_LINE.exec(line);
    if (deleted !== null) {
      if (!chains.delete(deleted[1]!)) throw new FlushRestoreError(`${table}: cannot delete missing chain ${deleted[1]}`);
      continue;
    }
    throw new FlushRestoreError(`${table}: cannot parse ${JSON.stringify(line)}`);
  }
}

/**
 * The input for a plain `iptables-restore --counters` that leaves the tables exactly as
 * `iptables-restore --noflush` of `transaction` would leave the tables in `saved` (iptables-save
 * -c output). Only the tables the transaction names are written, so the others are not touched.
 */
export function flushRestoreInput(saved: string, transaction: string): string {
  const current = tableSections(saved);
  const out: string[] = [];
  for (const [table, lines] of tableSections(transaction)) {
    const chains = new Map<string, SavedChain>();
    for (const line of current.get(table) ?? []) {
      const declared = CHAIN_LINE.exec(line);
      if (declared !== null) {
        chains.set(declared[1]!, { declaration: line, rules: [] });
        continue;
      }
      const rule = RULE_LINE.exec(line);
      const chain = rule === null ? undefined : chains.get(rule[1]!);
      if (chain === undefined) throw new FlushRestoreError(`${table}: unexpected line in iptables-save output: ${line}`);
      chain.rules.push(line);
    }
    applySection(table, chains, lines);
    out.push(`*${table}`);
    for (const chain of chains.values()) out.push(chain.declaration);
    for (const chain of chains.values()) for (const rule of chain.rules) out.push(rule);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}
