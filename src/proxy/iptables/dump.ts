// iptables-restore text as data (upstream: pkg/util/iptables/testing/parse.go). A dump is a list of
// tables; each table declares chains (":NAME policy [packets:bytes]"), then appends rules
// ("-A NAME ...", kept as raw text) and may delete chains ("-X NAME"), and ends with COMMIT.

export interface DumpChain {
  name: string;
  /** Policy column of the declaration: "-" for user chains, ACCEPT/DROP for built-in ones. */
  policy: string;
  packets: string;
  bytes: string;
  /** Raw rule lines ("-A NAME ...") in input order. */
  rules: string[];
  deleted: boolean;
  /** False for a chain that rules were appended to without a declaration (lenient parsing only). */
  declared: boolean;
}

export interface DumpTable {
  name: string;
  chains: DumpChain[];
}

const TABLE_LINE = /^\*(.*)$/;
const CHAIN_LINE = /^:([^ ]*) ([^ ]+) \[([0-9]*):([0-9]*)\]$/;
const RULE_LINE = /^-A ([^ ]*) /;
const DELETE_LINE = /^-X (.*)$/;

export class DumpParseError extends Error {
  constructor(lineNumber: number, message: string) {
    super(`line ${lineNumber}: ${message}`);
    this.name = 'DumpParseError';
  }
}

export interface ParseOptions {
  /**
   * Accept rules for chains the input does not declare, as iptables-restore --noflush does for
   * chains that already exist. Upstream's test parser (the default) rejects them.
   */
  allowUndeclared?: boolean;
}

/** Parses iptables-restore input; declarations are only recognised before the first rule. */
export function parseDump(text: string, options: ParseOptions = {}): DumpTable[] {
  const tables: DumpTable[] = [];
  let table: DumpTable | undefined;
  let inDeclarations = false;
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const lineNumber = index + 1;
    if (line === '' || line.startsWith('#')) return;
    if (table === undefined) {
      const m = TABLE_LINE.exec(line);
      if (m === null) throw new DumpParseError(lineNumber, `expected "*table", got ${JSON.stringify(line)}`);
      table = { name: m[1]!, chains: [] };
      tables.push(table);
      inDeclarations = true;
      return;
    }
    if (inDeclarations) {
      const m = CHAIN_LINE.exec(line);
      if (m !== null) {
        table.chains.push({ name: m[1]!, policy: m[2]!, packets: m[3]!, bytes: m[4]!, rules: [], deleted: false, declared: true });
        return;
      }
      inDeclarations = false;
    }
    const chainOf = (name: string): DumpChain => {
      let chain = table!.chains.find((c) => c.name === name);
      if (chain === undefined && options.allowUndeclared) {
        chain = { name, policy: '-', packets: '0', bytes: '0', rules: [], deleted: false, declared: false };
        table!.chains.push(chain);
      }
      if (chain === undefined) throw new DumpParseError(lineNumber, `chain ${name} is not declared`);
      return chain;
    };
    const rule = RULE_LINE.exec(line + ' ');
    const del = DELETE_LINE.exec(line);
    if (rule !== null) {
      const chain = chainOf(rule[1]!);
      if (chain.deleted) throw new DumpParseError(lineNumber, `rule added to deleted chain ${chain.name}`);
      chain.rules.push(line);
    } else if (del !== null) {
      const chain = chainOf(del[1]!);
      if (chain.rules.length > 0) throw new DumpParseError(lineNumber, `-X ${chain.name} after adding rules to it`);
      chain.deleted = true;
    } else if (line === 'COMMIT') {
      table = undefined;
    } else {
      throw new DumpParseError(lineNumber, `cannot parse ${JSON.stringify(line)}`);
    }
  });
  if (table !== undefined) throw new DumpParseError(lines.length, `table ${table.name} has no COMMIT`);
  return tables;
}

/** Writes a dump back: declarations, then rules chain by chain, then -X lines, then COMMIT. */
export function serializeDump(tables: readonly DumpTable[]): string {
  const out: string[] = [];
  for (const table of tables) {
    out.push(`*${table.name}`);
    for (const c of table.chains) if (c.declared) out.push(`:${c.name} ${c.policy} [${c.packets || '0'}:${c.bytes || '0'}]`);
    for (const c of table.chains) out.push(...c.rules);
    for (const c of table.chains) if (c.deleted) out.push(`-X ${c.name}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

/** The raw rules of one chain in restore text, or [] when the chain is not there. */
export function chainRules(text: string, table: string, chain: string): string[] {
  return parseDump(text).find((t) => t.name === table)?.chains.find((c) => c.name === chain)?.rules ?? [];
}

/** Splits a rule into words; a double-quoted word keeps its spaces and loses its quotes. */
export function ruleWords(rule: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(rule); m !== null; m = re.exec(rule)) words.push(m[1] ?? m[2]!);
  return words;
}
