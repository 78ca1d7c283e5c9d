// The nftables proxier's backend on a real kernel: each transaction is one `nft -f -` run with the
// commands on stdin (atomic: all or nothing), and state is read back with `nft -j list ...`. With a
// netns every command runs inside it (nsenter), so the host's ruleset is never touched.

import type { NftablesBackend } from '../proxy/nftables/backend.js';
import { formatOp, type NftFamily, type NftOp } from '../proxy/nftables/table.js';
import { execIn, type Netns } from './netns.js';

const TIMEOUT_MS = 30_000;
/**
 * A transaction may take this long per operation before it is given up. The kernel's cost per
 * operation grows with the transaction: the full sync of 10,000 Services x 10 endpoints (460,000
 * operations) takes 150-170 s on an idle host (research/baselines.md finding 6), so a fixed 30 s
 * killed every full sync above a few thousand Services, and each retry started over.
 */
const TIMEOUT_PER_OPERATION_MS = 2;

/** Keys and values as nft -j prints them: strings, numbers, {concat: [...]}, {elem: {val}}, verdicts. */
type NftJsonExpr = string | number | null | { [key: string]: NftJsonExpr } | NftJsonExpr[];

interface NftJsonObject {
  family?: string;
  table?: string;
  name?: string;
  /** Value type; present on maps only. */
  map?: string;
  elem?: NftJsonExpr[];
}

/** The objects of one kind (chain, set, map) in `nft -j list` output. */
export function objectsFromJson(text: string, kind: 'chain' | 'set' | 'map'): NftJsonObject[] {
  const doc = JSON.parse(text) as { nftables?: Record<string, NftJsonObject>[] };
  return (doc.nftables ?? []).flatMap((entry) => (entry[kind] === undefined ? [] : [entry[kind]]));
}

/**
 * An element key or verdict in the text form the builder writes: concatenations joined with " . ",
 * verdicts as "goto chain" / "jump chain" / "drop".
 */
function exprText(expr: NftJsonExpr): string {
  if (expr === null) return '';
  if (typeof expr === 'string' || typeof expr === 'number') return String(expr);
  if (Array.isArray(expr)) return expr.map(exprText).join(' . ');
  if ('concat' in expr) return exprText(expr.concat!);
  if ('elem' in expr) return exprText((expr.elem as { val: NftJsonExpr }).val);
  const [verdict, arg] = Object.entries(expr)[0] ?? ['', null];
  if (arg !== null && typeof arg === 'object' && !Array.isArray(arg) && 'target' in arg) return `${verdict} ${exprText(arg.target!)}`;
  return verdict;
}

/** Elements of a set (bare keys) or map ([key, value] pairs) from its JSON listing. */
export function elementsFromJson(obj: NftJsonObject): { key: string; value?: string }[] {
  return (obj.elem ?? []).map((e) =>
    obj.map !== undefined && Array.isArray(e) ? { key: exprText(e[0] ?? null), value: exprText(e[1] ?? null) } : { key: exprText(e) },
  );
}

const isMissing = (stderr: string): boolean => /No such file or directory/.test(stderr);

export class KernelNftablesBackend implements NftablesBackend {
  constructor(
    private readonly netns?: Netns,
    private readonly family: NftFamily = 'ip',
    private readonly table = 'kube-proxy',
  ) {}

  async listChains(): Promise<string[]> {
    return this.namesOf('chain', ['list', 'chains', this.family]);
  }

  async listSets(): Promise<string[]> {
    // -t: without elements, which are not needed here and can be many.
    return this.namesOf('set', ['-t', 'list', 'sets', this.family]);
  }

  async listElements(set: string): Promise<{ key: string; value?: string }[] | undefined> {
    // The name alone does not say whether it is a set or a map, and `list set` refuses a map.
    for (const kind of ['map', 'set'] as const) {
      const text = await this.list(['list', kind, this.family, this.table, set]);
      if (text === undefined) continue;
      const obj = objectsFromJson(text, kind)[0];
      return obj === undefined ? [] : elementsFromJson(obj);
    }
    return undefined;
  }

  async run(ops: readonly NftOp[]): Promise<void> {
    if (ops.length === 0) return;
    const text = ops.map((op) => formatOp(this.family, this.table, op)).join('\n') + '\n';
    const timeoutMs = Math.max(TIMEOUT_MS, ops.length * TIMEOUT_PER_OPERATION_MS);
    await execIn(this.netns, 'nft', ['-f', '-'], { input: text, timeoutMs });
  }

  private async namesOf(kind: 'chain' | 'set', args: string[]): Promise<string[]> {
    const text = await this.list(args);
    if (text === undefined) return [];
    return objectsFromJson(text, kind)
      .filter((o) => o.table === this.table)
      .map((o) => o.name ?? '');
  }

  /** `nft -j <args>` output, or undefined when the object does not exist. */
  private async list(args: string[]): Promise<string | undefined> {
    const r = await execIn(this.netns, 'nft', ['-j', ...args], { allowFailure: true, timeoutMs: TIMEOUT_MS });
    if (r.code === 0) return r.stdout;
    if (isMissing(r.stderr)) return undefined;
    throw new Error(`nft -j ${args.join(' ')}: exit code ${r.code}: ${r.stderr.trim()}`);
  }
}
