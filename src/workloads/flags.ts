// Command-line flags the way Go programs (spf13/pflag and the standard flag package) read them:
// `--name=value`, `--name value`, `-name=value`; a bool flag is set by `--name` alone and takes a
// value only after `=`. Error texts follow pflag so a Pod's log reads as it would upstream.

export type FlagKind = 'string' | 'int' | 'bool';

export interface FlagDef<K extends FlagKind = FlagKind> {
  kind: K;
  default: FlagValue<K>;
}

export type FlagValue<K extends FlagKind> = K extends 'bool' ? boolean : K extends 'int' ? number : string;

export type FlagValues<S extends Record<string, FlagDef>> = { [N in keyof S]: FlagValue<S[N]['kind']> };

export class FlagError extends Error {}

/** Parse argv against spec; positional arguments are refused like cobra's MaximumNArgs(0). */
export function parseFlags<S extends Record<string, FlagDef>>(argv: readonly string[], spec: S): FlagValues<S> {
  const values: Record<string, string | number | boolean> = {};
  for (const [name, def] of Object.entries(spec)) values[name] = def.default;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const def = spec[name];
    if (!def) throw new FlagError(`unknown flag: --${name}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (def.kind === 'bool') raw = 'true';
    else if (i + 1 < argv.length) raw = argv[++i]!;
    else throw new FlagError(`flag needs an argument: --${name}`);
    values[name] = convert(name, def.kind, raw);
  }
  if (positionals.length > 0) throw new FlagError(`accepts at most 0 arg(s), received ${positionals.length}`);
  return values as FlagValues<S>;
}

function convert(name: string, kind: FlagKind, raw: string): string | number | boolean {
  if (kind === 'string') return raw;
  if (kind === 'int') {
    if (!/^[+-]?\d+$/.test(raw)) {
      throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
    }
    return Number.parseInt(raw, 10);
  }
  const parsed = parseGoBool(raw);
  if (parsed === undefined) {
    throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
  }
  return parsed;
}

/** strconv.ParseBool: the spellings Go accepts, undefined for anything else. */
export function parseGoBool(raw: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false;
  return undefined;
}
