// iproute2 as the way into a namespace's links, addresses and routes. The `netlink` npm package
// cannot configure another namespace (a netlink socket belongs to the netns of the process that
// opened it and the package has no setns), so every change is a list of `ip` (or `bridge`) command
// lines applied with ONE `-batch -` run inside the target namespace — one process per namespace per
// operation, which keeps a Pod ADD within a few milliseconds of kernel work.
//
// Batches run with -force: every line is tried even after one fails, and stderr says which lines
// failed ("Command failed -:N"). A line may declare the error that only means "already done"
// (File exists on create, Cannot find device on delete); any other failure is reported with its
// line and message.
//
// In a named namespace the tool switches itself (`ip -n NAME`): no nsenter in front. Settings under
// /proc/sys that must be written in the same namespace go into the same process: nsenter runs a
// shell that writes them and then execs the tool (/proc/sys/net is the namespace of whoever opens it).

import { exec } from './exec.js';
import { argvIn, netnsName } from './netns.js';
import type { Netns } from './netns.js';
import { sysctlFile, writeSysctls, type SysctlSetting } from './sysctl.js';

export interface BatchLine {
  /** The words of one command line, without the program name, e.g. ['link', 'set', 'cni0', 'up']. */
  args: string[];
  /** A kernel answer that means the state is already what this line wants. */
  tolerate?: 'exists' | 'missing';
}

export interface BatchOptions {
  /** Pass -j so `show` lines print JSON; their outputs are returned in order. */
  json?: boolean;
  /** Pass -d (details: link kinds, bridge port settings). */
  details?: boolean;
  /** Kernel settings of the same namespace, written before the batch runs. */
  sysctls?: readonly SysctlSetting[];
}

export interface BatchFailure {
  line: number;
  command: string;
  message: string;
}

export class BatchError extends Error {
  constructor(
    readonly tool: string,
    readonly failures: BatchFailure[],
  ) {
    super(failures.map((f) => `${tool} ${f.command}: ${f.message}`).join('; '));
    this.name = 'BatchError';
  }
}

const TOLERATED: Record<NonNullable<BatchLine['tolerate']>, RegExp> = {
  exists: /File exists/,
  missing: /Cannot find device|No such device|No such process|does not exist/,
};

/** The batch text; words must not contain whitespace or quotes (the batch parser would split them). */
export function batchText(lines: readonly BatchLine[]): string {
  return lines
    .map(({ args }) => {
      for (const word of args) {
        if (word === '' || /[\s"'\\#]/.test(word)) throw new Error(`invalid word ${JSON.stringify(word)} in batch line`);
      }
      return args.join(' ');
    })
    .join('\n')
    .concat('\n');
}

/** Map "Command failed -:N" markers in stderr to the message lines printed just before each. */
export function parseBatchFailures(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const marker = /^Command failed -:(\d+)$/.exec(line.trim());
    if (marker) {
      failures.set(Number(marker[1]), pending.join(' ').trim());
      pending = [];
    } else if (line.trim() !== '') {
      pending.push(line.trim());
    }
  }
  return failures;
}

/** The JSON arrays printed by `show` lines, one per line of stdout. */
export function parseJsonLines(stdout: string): unknown[][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown[]);
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** sh -c text that writes the settings, then execs "$0" "$@" (the tool and its flags). */
export function sysctlScript(settings: readonly SysctlSetting[]): string {
  const writes = settings.map((s) => {
    const file = shellQuote(sysctlFile(s.key));
    const write = `printf %s ${shellQuote(String(s.value))} > ${file} || { echo ${shellQuote(`cannot set ${s.key}=${s.value}`)} >&2; exit 1; }`;
    // Like `sysctl -e`: an optional key that does not exist is skipped.
    return s.optional ? `if [ -e ${file} ]; then ${write}; fi` : write;
  });
  return [...writes, 'exec "$0" "$@"'].join('\n');
}

/** The program and argv that run `tool flags` in ns, with the settings written first. */
export function batchArgv(tool: string, ns: Netns | undefined, flags: readonly string[], sysctls: readonly SysctlSetting[] = []): [string, string[]] {
  if (ns !== undefined && sysctls.length > 0) return argvIn(ns, 'sh', ['-c', sysctlScript(sysctls), tool, ...flags]);
  const name = ns === undefined ? undefined : netnsName(ns);
  if (name !== undefined) return [tool, ['-n', name, ...flags]];
  return argvIn(ns, tool, flags);
}

async function runBatch(
  tool: 'ip' | 'bridge',
  ns: Netns | undefined,
  lines: readonly BatchLine[],
  options: BatchOptions,
): Promise<unknown[][]> {
  if (lines.length === 0) return [];
  const flags = [...(options.json ? ['-j'] : []), ...(options.details ? ['-d'] : []), '-force', '-batch', '-'];
  // In this namespace the files are ours to write; in another the shell in front of the tool writes them.
  if (ns === undefined && options.sysctls) await writeSysctls(undefined, options.sysctls);
  const [program, argv] = batchArgv(tool, ns, flags, options.sysctls);
  const result = await exec(program, argv, { input: batchText(lines), allowFailure: true, timeoutMs: 10_000 });
  const failures: BatchFailure[] = [];
  for (const [lineNo, message] of parseBatchFailures(result.stderr)) {
    const line = lines[lineNo - 1];
    if (line === undefined) continue;
    if (line.tolerate !== undefined && TOLERATED[line.tolerate].test(message)) continue;
    failures.push({ line: lineNo, command: line.args.join(' '), message });
  }
  if (failures.length === 0 && result.code !== 0 && parseBatchFailures(result.stderr).size === 0) {
    // Failed before running any line (bad netns, missing program): nothing to map.
    failures.push({ line: 0, command: '-batch', message: result.stderr.trim() || `exit code ${result.code}` });
  }
  if (failures.length > 0) throw new BatchError(tool, failures);
  return options.json ? parseJsonLines(result.stdout) : [];
}

export function ipBatch(ns: Netns | undefined, lines: readonly BatchLine[], options: BatchOptions = {}): Promise<unknown[][]> {
  return runBatch('ip', ns, lines, options);
}

export function bridgeBatch(ns: Netns | undefined, lines: readonly BatchLine[], options: BatchOptions = {}): Promise<unknown[][]> {
  return runBatch('bridge', ns, lines, options);
}

// ---- what `ip -j` prints (the fields kemu reads) ----

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address?: string;
  master?: string;
  /** The peer's ifindex (veth), in the peer's namespace. */
  link_index?: number;
  /** With -d. */
  linkinfo?: {
    info_kind?: string;
    info_slave_kind?: string;
    info_slave_data?: { hairpin?: boolean; state?: string };
  };
}

export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope?: string;
}

export interface IpLinkWithAddrs extends IpLink {
  addr_info: IpAddrInfo[];
}

export interface IpRoute {
  /** "default" or a prefix; host routes print without /32. */
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  flags: string[];
}

/** Links with their addresses (`ip -j -d addr show`), in one process. */
export async function showAddrs(ns: Netns | undefined): Promise<IpLinkWithAddrs[]> {
  const [out] = await ipBatch(ns, [{ args: ['addr', 'show'] }], { json: true, details: true });
  return (out ?? []) as IpLinkWithAddrs[];
}

export async function showLinks(ns: Netns | undefined): Promise<IpLink[]> {
  const [out] = await ipBatch(ns, [{ args: ['link', 'show'] }], { json: true, details: true });
  return (out ?? []) as IpLink[];
}

export async function showRoutes(ns: Netns | undefined, table = 'main'): Promise<IpRoute[]> {
  const [out] = await ipBatch(ns, [{ args: ['route', 'show', 'table', table] }], { json: true });
  return (out ?? []) as IpRoute[];
}
