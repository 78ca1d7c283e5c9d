// The objects of kube-proxy's private nftables table, the operations of a transaction on them, and
// an in-memory table that applies transactions atomically and dumps its state in `nft -f` "add"
// syntax as the knftables fake does. It stands in for the kernel in tests, the tracer and dry runs.

export type NftFamily = 'ip' | 'ip6';

export type NftObject =
  | { kind: 'table'; props?: string }
  /** props: the text inside "{ ... ; }", e.g. `type filter hook input priority 0 ;`. */
  | { kind: 'chain'; name: string; props?: string }
  | { kind: 'set' | 'map'; name: string; props?: string }
  /** rule: everything after the chain name, comment included. */
  | { kind: 'rule'; chain: string; rule: string }
  | { kind: 'element'; set: string; key: string; value?: string; comment?: string };

export interface NftOp {
  verb: 'add' | 'flush' | 'delete';
  object: NftObject;
}

interface ChainState {
  props?: string;
  rules: string[];
}

interface SetState {
  kind: 'set' | 'map';
  props?: string;
  /** key -> value (undefined for plain sets) and comment. */
  elements: Map<string, { value?: string; comment?: string }>;
}

export class NftError extends Error {}

const braces = (props: string | undefined): string => (props === undefined ? '' : ` { ${props} }`);
/** Chains a rule or a verdict-map value jumps to. */
const targetsOf = (text: string): string[] => [...text.matchAll(/\b(?:goto|jump) ([^\s,}]+)/g)].map((m) => m[1]!);

/** One nft command line for an operation, as `nft -f` reads it. */
export function formatOp(family: NftFamily, table: string, op: NftOp): string {
  const head = `${op.verb} ${op.object.kind} ${family} ${table}`;
  const o = op.object;
  switch (o.kind) {
    case 'table':
      return op.verb === 'add' ? `${head}${braces(o.props)}` : head;
    case 'chain':
    case 'set':
    case 'map':
      return op.verb === 'add' ? `${head} ${o.name}${braces(o.props)}` : `${head} ${o.name}`;
    case 'rule':
      return `${head} ${o.chain} ${o.rule}`;
    case 'element': {
      const comment = o.comment === undefined ? '' : ` comment "${o.comment}"`;
      const value = o.value === undefined ? '' : ` : ${o.value}`;
      return `${head} ${o.set} { ${o.key}${comment}${value} }`;
    }
  }
}

export class NftTableModel {
  private exists = false;
  private tableProps?: string;
  private chains = new Map<string, ChainState>();
  private sets = new Map<string, SetState>();
  constructor(
    readonly family: NftFamily = 'ip',
    readonly name = 'kube-proxy',
  ) {}

  /** Applies all operations or none; throws NftError on the first invalid one. */
  run(ops: readonly NftOp[]): void {
    const draft = this.clone();
    for (const op of ops) draft.apply(op);
    this.exists = draft.exists;
    this.tableProps = draft.tableProps;
    this.chains = draft.chains;
    this.sets = draft.sets;
  }

  chainNames(): string[] {
    return [...this.chains.keys()];
  }

  chainRules(chain: string): readonly string[] | undefined {
    return this.chains.get(chain)?.rules;
  }

  setNames(): string[] {
    return [...this.sets.entries()].filter(([, s]) => s.kind === 'set').map(([name]) => name);
  }

  elements(set: string): { key: string; value?: string }[] | undefined {
    const s = this.sets.get(set);
    return s === undefined ? undefined : [...s.elements].map(([key, e]) => ({ key, value: e.value }));
  }

  /** The whole table as "add" commands: table, chains, sets, maps, rules, elements. */
  dump(): string {
    if (!this.exists) return '';
    const out: NftOp[] = [{ verb: 'add', object: { kind: 'table', props: this.tableProps } }];
    const chainNames = [...this.chains.keys()].sort();
    const setNames = [...this.sets.keys()].sort();
    for (const name of chainNames) out.push({ verb: 'add', object: { kind: 'chain', name, props: this.chains.get(name)!.props } });
    for (const kind of ['set', 'map'] as const) {
      for (const name of setNames) {
        const s = this.sets.get(name)!;
        if (s.kind === kind) out.push({ verb: 'add', object: { kind, name, props: s.props } });
      }
    }
    for (const chain of chainNames) for (const rule of this.chains.get(chain)!.rules) out.push({ verb: 'add', object: { kind: 'rule', chain, rule } });
    for (const set of setNames) {
      for (const [key, e] of this.sets.get(set)!.elements) out.push({ verb: 'add', object: { kind: 'element', set, key, ...e } });
    }
    return out.map((op) => formatOp(this.family, this.name, op)).join('\n') + '\n';
  }

  /** Loads `nft -f` "add" commands for this table (e.g. a previous dump) as one transaction. */
  load(text: string): void {
    this.run(parseAddCommands(text));
  }

  private clone(): NftTableModel {
    const copy = new NftTableModel(this.family, this.name);
    copy.exists = this.exists;
    copy.tableProps = this.tableProps;
    for (const [name, c] of this.chains) copy.chains.set(name, { props: c.props, rules: [...c.rules] });
    for (const [name, s] of this.sets) copy.sets.set(name, { kind: s.kind, props: s.props, elements: new Map(s.elements) });
    return copy;
  }

  private apply(op: NftOp): void {
    const o = op.object;
    const fail = (why: string): never => {
      throw new NftError(`${formatOp(this.family, this.name, op)}: ${why}`);
    };
    if (o.kind === 'table') {
      if (op.verb === 'add') {
        this.exists = true;
        this.tableProps ??= o.props;
      } else if (!this.exists) fail('No such file or directory');
      else if (op.verb === 'flush') this.chains.forEach((c) => (c.rules = []));
      else {
        this.exists = false;
        this.chains.clear();
        this.sets.clear();
      }
      return;
    }
    if (!this.exists) fail('No such file or directory (table)');
    switch (o.kind) {
      case 'chain': {
        const chain = this.chains.get(o.name);
        if (op.verb === 'add') {
          if (chain === undefined) this.chains.set(o.name, { props: o.props, rules: [] });
        } else if (chain === undefined) fail('No such file or directory');
        else if (op.verb === 'flush') chain.rules = [];
        else {
          if (chain.rules.length > 0) fail('Device or resource busy (chain not empty)');
          if (this.isReferenced(o.name)) fail('Device or resource busy (chain in use)');
          this.chains.delete(o.name);
        }
        return;
      }
      case 'set':
      case 'map': {
        const set = this.sets.get(o.name);
        if (op.verb === 'add') {
          if (set === undefined) this.sets.set(o.name, { kind: o.kind, props: o.props, elements: new Map() });
        } else if (set === undefined) fail('No such file or directory');
        else if (op.verb === 'flush') set.elements.clear();
        else this.sets.delete(o.name);
        return;
      }
      case 'rule': {
        const chain = this.chains.get(o.chain);
        if (chain === undefined) fail('No such file or directory (chain)');
        if (op.verb !== 'add') fail('rules are only added here; flush the chain instead');
        this.requireTargets(o.rule, fail);
        chain!.rules.push(o.rule);
        return;
      }
      case 'element': {
        const set = this.sets.get(o.set);
        if (set === undefined) fail('No such file or directory (set)');
        if (op.verb === 'add') {
          this.requireTargets(o.value ?? '', fail);
          set!.elements.set(o.key, { value: o.value, comment: o.comment });
        } else if (op.verb === 'delete') {
          if (!set!.elements.delete(o.key)) fail('No such file or directory (element)');
        } else fail('elements cannot be flushed');
        return;
      }
    }
  }

  private requireTargets(text: string, fail: (why: string) => never): void {
    for (const target of targetsOf(text)) if (!this.chains.has(target)) fail(`Could not process rule: No such file or directory (${target})`);
  }

  private isReferenced(chain: string): boolean {
    for (const c of this.chains.values()) if (c.rules.some((r) => targetsOf(r).includes(chain))) return true;
    for (const s of this.sets.values()) for (const e of s.elements.values()) if (targetsOf(e.value ?? '').includes(chain)) return true;
    return false;
  }
}

/** Parses "add ..." lines (blank lines and comments skipped) back into operations. */
export function parseAddCommands(text: string): NftOp[] {
  const ops: NftOp[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const words = line.split(' ');
    if (words[0] !== 'add') throw new NftError(`unsupported command: ${line}`);
    const kind = words[1];
    const name = words[4] ?? '';
    const rest = words.slice(5).join(' ');
    const props = (body: string): string | undefined => (body.startsWith('{') ? body.replace(/^\{\s*|\s*\}$/g, '') : undefined);
    if (kind === 'table') ops.push({ verb: 'add', object: { kind, props: props(words.slice(4).join(' ')) } });
    else if (kind === 'chain' || kind === 'set' || kind === 'map') ops.push({ verb: 'add', object: { kind, name, props: props(rest) } });
    else if (kind === 'rule') ops.push({ verb: 'add', object: { kind, chain: name, rule: rest } });
    else if (kind === 'element') {
      const body = rest.replace(/^\{\s*|\s*\}$/g, '');
      const m = /^(.*?)(?: comment "([^"]*)")?(?: : (.*))?$/.exec(body)!;
      ops.push({ verb: 'add', object: { kind, set: name, key: m[1]!, comment: m[2], value: m[3] } });
    } else throw new NftError(`unsupported object: ${line}`);
  }
  return ops;
}
