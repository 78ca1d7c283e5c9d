// kubectl-style command lines: flags anywhere among the arguments, `--flag value`, `--flag=value`,
// `-n value`, `-nvalue`, `-n=value`, booleans as `--flag` or `--flag=false`, repeatable flags
// collected in order, and `--` ending the flags.

import { CliError } from './errors.js';

export type FlagKind = 'string' | 'boolean' | 'strings';

export interface FlagDef {
  kind: FlagKind;
  short?: string;
  /** Accepted as a boolean or with a value: `--dry-run` is `--dry-run=client` (cobra's NoOptDefVal). */
  noValueDefault?: string;
}

export type FlagSpec = Record<string, FlagDef>;

export class Args {
  constructor(
    readonly positionals: string[],
    private readonly values: Map<string, string | boolean | string[]>,
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  bool(name: string, fallback = false): boolean {
    const v = this.values.get(name);
    return typeof v === 'boolean' ? v : fallback;
  }

  strings(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }

  /** An integer flag; a non-integer value is a usage error naming the flag. */
  int(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw new CliError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return Number(v);
  }
}

function parseBool(name: string, v: string): boolean {
  if (/^(true|1|t|T|TRUE|True)$/.test(v)) return true;
  if (/^(false|0|f|F|FALSE|False)$/.test(v)) return false;
  throw new CliError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/**
 * Parse argv against a spec. Unknown flags are an error unless `lenient`, in which case
 * `--x=v` is a string and a bare `--x` a boolean (for commands that do not declare their flags).
 */
export function parseArgs(argv: string[], spec: FlagSpec, lenient = false): Args {
  const byShort = new Map<string, string>();
  for (const [name, def] of Object.entries(spec)) if (def.short) byShort.set(def.short, name);
  const positionals: string[] = [];
  const values = new Map<string, string | boolean | string[]>();

  const set = (name: string, def: FlagDef, value: string | undefined, next: () => string | undefined): void => {
    if (def.kind === 'boolean') {
      values.set(name, value === undefined ? true : parseBool(name, value));
      return;
    }
    let v = value;
    if (v === undefined) v = def.noValueDefault ?? next();
    if (v === undefined) throw new CliError(`flag needs an argument: --${name}`);
    if (def.kind === 'strings') values.set(name, [...((values.get(name) as string[] | undefined) ?? []), v]);
    else values.set(name, v);
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const value = eq < 0 ? undefined : a.slice(eq + 1);
      const def = spec[name];
      if (def) set(name, def, value, next);
      else if (lenient) values.set(name, value ?? true);
      else throw new CliError(`unknown flag: --${name}`);
    } else if (a.startsWith('-') && a.length > 1) {
      // One or more shorthands: -n ns, -nns, -n=ns, and combined booleans such as -Aw.
      for (let j = 1; j < a.length; j++) {
        const short = a[j];
        const rest = a.slice(j + 1);
        const name = byShort.get(short);
        if (!name) {
          if (!lenient) throw new CliError(`unknown shorthand flag: '${short}' in ${a}`);
          values.set(short, rest === '' ? true : rest.replace(/^=/, ''));
          break;
        }
        const def = spec[name];
        if (def.kind === 'boolean' && !rest.startsWith('=')) {
          set(name, def, undefined, next);
          continue;
        }
        set(name, def, rest === '' ? undefined : rest.replace(/^=/, ''), next);
        break;
      }
    } else {
      positionals.push(a);
    }
  }
  return new Args(positionals, values);
}
