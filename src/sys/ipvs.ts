// IPVS inside a node's namespace: the virtual server table through ipvsadm, the kube-ipvs0 dummy
// device through ip, the sets through ipset, and the check whether this kernel has IPVS at all.
//
// Why ipvsadm and not generic netlink (family "IPVS") as upstream's libipvs does: the `netlink` npm
// package is not a dependency (it is a native addon that would need a compiler on every host), and
// like every netlink socket opened in-process it would reach only the namespace this process runs
// in, while kube-proxy here may program another one (startKubeProxy's netns option). ipvsadm speaks
// that same generic netlink family; one `ipvsadm -R` per sync carries all of a sync's changes, and
// `ipvsadm -Ln` reads the table back with the connection counts graceful termination needs.

import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { joinHostPort, splitHostPort } from '../api/ip.js';
import type { IpvsBackend } from '../proxy/ipvs/backend.js';
import { DUMMY_DEVICE } from '../proxy/ipvs/names.js';
import type { IpsetMembers, IpsetOp, IpvsOp, RealServer, ServiceRef, VirtualServer } from '../proxy/ipvs/state.js';
import type { Protocol } from '../api/types.js';
import { exec } from './exec.js';
import { ipBatch, showAddrs } from './iproute.js';
import { listIpsets, restoreIpsets } from './ipset.js';
import { createNetns, deleteNetns, execIn, type Netns } from './netns.js';
import { writeSysctls } from './sysctl.js';

const TIMEOUT_MS = 30_000;
const PROTOCOL_FLAGS: Record<string, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

function serviceArgs(s: ServiceRef): string[] {
  return [PROTOCOL_FLAGS[s.protocol] ?? '-t', joinHostPort(s.address, s.port)];
}

/** One ipvsadm command line (without the program name) per op; real servers are masqueraded (NAT), as upstream's. */
export function ipvsadmLine(o: IpvsOp): string {
  const words: string[] = [];
  switch (o.op) {
    case 'add-service':
    case 'edit-service':
      words.push(o.op === 'add-service' ? '-A' : '-E', ...serviceArgs(o.service), '-s', o.service.scheduler);
      if (o.service.persistentTimeoutSeconds !== undefined) words.push('-p', String(o.service.persistentTimeoutSeconds));
      break;
    case 'delete-service':
      words.push('-D', ...serviceArgs(o.service));
      break;
    case 'add-server':
    case 'edit-server':
      words.push(o.op === 'add-server' ? '-a' : '-e', ...serviceArgs(o.service), '-r', joinHostPort(o.server.address, o.server.port), '-m', '-w', String(o.server.weight));
      break;
    case 'delete-server':
      words.push('-d', ...serviceArgs(o.service), '-r', joinHostPort(o.server.address, o.server.port));
      break;
  }
  return words.join(' ');
}

function splitAddress(text: string): { address: string; port: number } | undefined {
  const hp = splitHostPort(text);
  return hp === undefined ? undefined : { address: hp.host, port: hp.port };
}

/**
 * The table as `ipvsadm -Ln` prints it:
 *   TCP  10.96.0.10:80 rr persistent 10800
 *     -> 10.244.1.2:8080              Masq    1      0          0
 */
export function parseIpvsadmList(text: string): VirtualServer[] {
  const out: VirtualServer[] = [];
  for (const raw of text.split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words[0] === '->') {
      const addr = splitAddress(words[1] ?? '');
      const vs = out.at(-1);
      if (addr === undefined || vs === undefined) continue; // the column header line
      const rs: RealServer = { ...addr, weight: Number(words[3]), activeConns: Number(words[4]), inactiveConns: Number(words[5]) };
      vs.realServers.push(rs);
      continue;
    }
    if (!(words[0]! in PROTOCOL_FLAGS)) continue;
    const addr = splitAddress(words[1] ?? '');
    if (addr === undefined) continue;
    const persistent = words.indexOf('persistent');
    out.push({
      ...addr,
      protocol: words[0] as Protocol,
      scheduler: words[2] ?? '',
      ...(persistent >= 0 ? { persistentTimeoutSeconds: Number(words[persistent + 1]) } : {}),
      realServers: [],
    });
  }
  return out;
}

/** The sysctls upstream's IPVS proxier sets at start (conn_reuse_mode only matters on kernels before 5.9). */
export async function prepareIpvsNamespace(ns: Netns | undefined): Promise<void> {
  await writeSysctls(ns, [
    { key: 'net.ipv4.vs.conntrack', value: 1 },
    { key: 'net.ipv4.vs.expire_nodest_conn', value: 1 },
    { key: 'net.ipv4.vs.expire_quiescent_template', value: 1 },
    { key: 'net.ipv4.ip_forward', value: 1 },
  ]);
}

export class KernelIpvsBackend implements IpvsBackend {
  constructor(private readonly netns?: Netns) {}

  async listVirtualServers(): Promise<VirtualServer[]> {
    const { stdout } = await execIn(this.netns, 'ipvsadm', ['-Ln'], { timeoutMs: TIMEOUT_MS });
    return parseIpvsadmList(stdout);
  }

  async applyIpvs(ops: readonly IpvsOp[]): Promise<void> {
    if (ops.length === 0) return;
    await execIn(this.netns, 'ipvsadm', ['-R'], { input: ops.map(ipvsadmLine).join('\n') + '\n', timeoutMs: TIMEOUT_MS });
  }

  /** kube-ipvs0 stays down, as upstream's: addresses on a down device still get local routes. */
  async ensureDummy(): Promise<string[]> {
    await ipBatch(this.netns, [{ args: ['link', 'add', DUMMY_DEVICE, 'type', 'dummy'], tolerate: 'exists' }]);
    const link = (await showAddrs(this.netns)).find((l) => l.ifname === DUMMY_DEVICE);
    return (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
  }

  async changeDummyAddresses(add: readonly string[], del: readonly string[]): Promise<void> {
    await ipBatch(this.netns, [
      ...del.map((a) => ({ args: ['addr', 'del', a, 'dev', DUMMY_DEVICE], tolerate: 'missing' as const })),
      ...add.map((a) => ({ args: ['addr', 'add', a, 'dev', DUMMY_DEVICE], tolerate: 'exists' as const })),
    ]);
  }

  listIpsets(): Promise<Map<string, IpsetMembers>> {
    return listIpsets(this.netns);
  }

  applyIpsets(ops: readonly IpsetOp[]): Promise<void> {
    return restoreIpsets(this.netns, ops);
  }
}

export type IpvsSupport = { ok: true } | { ok: false; reason: string };

/**
 * Whether kube-proxy's IPVS mode can work here: the ip_vs module (loaded with modprobe when
 * allowed), a dummy device that can be created (tried in a scratch namespace, removed after), and
 * the ipvsadm and ipset programs.
 */
export async function ipvsSupported(options: { modprobe?: boolean } = {}): Promise<IpvsSupport> {
  if (!fs.existsSync('/proc/net/ip_vs') && options.modprobe !== false) {
    await exec('modprobe', ['-a', 'ip_vs', 'ip_vs_rr', 'dummy'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
  }
  if (!fs.existsSync('/proc/net/ip_vs')) return { ok: false, reason: 'the ip_vs kernel module is missing (/proc/net/ip_vs does not exist)' };
  for (const tool of ['ipvsadm', 'ipset']) {
    const found = await exec(tool, ['--version'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
    if (found === undefined) return { ok: false, reason: `the ${tool} program is not installed` };
  }
  const scratch = `kemu-ipvscheck-${randomBytes(3).toString('hex')}`;
  try {
    await createNetns(scratch);
    await ipBatch(scratch, [{ args: ['link', 'add', 'kemu-dummy0', 'type', 'dummy'] }]);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `this kernel cannot create dummy interfaces (${(e as Error).message})` };
  } finally {
    await deleteNetns(scratch).catch(() => undefined);
  }
}
