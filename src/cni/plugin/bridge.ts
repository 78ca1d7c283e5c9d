// The bridge plugin: attach a Pod's network namespace to the node's bridge (cni0) with a veth pair,
// the way the reference `bridge` plugin does, plus `lo` up as the loopback plugin would.
//
// The plugin runs in the node's namespace (the runtime execs it there). An ADD is:
//   read the bridge   → rtnetlink dump of links and addresses                 (node, no program)
//   IPAM              → host-local files under dataDir                        (in-process, flock)
//   node changes      → ONE ip -batch: bridge, veth with its peer created in the Pod netns, port,
//                       hairpin, gateway address; it also prints the MACs     (node)
//   node sysctls      → ip_forward=1 when isGateway, accept_ra=0 on the bridge (files, node)
//   Pod changes       → ONE process: arp_notify, then ip -batch: lo up, address, eth0 up, routes (Pod)
import { randomBytes } from 'node:crypto';
import { netnsExists } from '../../sys/netns.js';
import { BatchError, ipBatch, showLinks } from '../../sys/iproute.js';
import type { BatchLine, IpAddrInfo, IpLink, IpLinkWithAddrs, IpRoute } from '../../sys/iproute.js';
import { withRtnetlink } from '../../sys/rtnetlink.js';
import { writeSysctls } from '../../sys/sysctl.js';
import type { BridgeConfig, CniArgs } from './config.js';
import { ipamAdd, ipamCheck, ipamDel } from './ipam.js';
import type { Attachment } from './ipam.js';
import { CniError, ErrorCode } from './result.js';
import type { CniIPConfig, CniResult, CniRoute } from './result.js';
import { formatIPv4, formatPrefix, networkOf, parseIPv4, parsePrefix } from './ipv4.js';

const fail = (msg: string) => new CniError(ErrorCode.Internal, msg);

/** Host end of the pair: "veth" + 8 random hex digits, like the reference plugin. */
export function hostVethName(): string {
  return `veth${randomBytes(4).toString('hex')}`;
}

/** The first address of the IP's subnet, the bridge's address when IPAM gave no gateway. */
function defaultGateway(address: string): string {
  const p = parsePrefix(address)!;
  return formatIPv4(networkOf(p) + 1);
}

/** IPs with gateways filled in and the routes the Pod gets (IPAM routes, then the default route). */
export function podAddressing(conf: BridgeConfig, ipam: CniResult): { ips: CniIPConfig[]; routes: CniRoute[] } {
  const ips = (ipam.ips ?? []).map((ip) => ({
    interface: 2,
    address: ip.address,
    ...(ip.gateway !== undefined ? { gateway: ip.gateway } : conf.isGateway ? { gateway: defaultGateway(ip.address) } : {}),
  }));
  const routes = [...(ipam.routes ?? [])];
  if (conf.isDefaultGateway) {
    for (const ip of ips) {
      if (ip.gateway === undefined) continue;
      const existing = routes.find((r) => r.dst === '0.0.0.0/0');
      if (existing?.gw !== undefined && existing.gw !== ip.gateway) {
        throw fail(`isDefaultGateway ineffective because IPAM sets default route via "${existing.gw}"`);
      }
      routes.push({ dst: '0.0.0.0/0', gw: ip.gateway });
    }
  }
  return { ips, routes };
}

/** The bridge's gateway addresses ("10.244.1.1/24"), one per distinct gateway. */
export function bridgeAddresses(conf: BridgeConfig, ips: CniIPConfig[]): string[] {
  if (!conf.isGateway) return [];
  const gateways = ips.filter((ip) => ip.gateway !== undefined).map((ip) => `${ip.gateway}/${parsePrefix(ip.address)!.length}`);
  return [...new Set(gateways)];
}

/**
 * Changes to the bridge's IPv4 addresses: add the gateway unless it is there; an existing different
 * address is an error unless forceAddress, which replaces it.
 */
export function bridgeAddressLines(conf: BridgeConfig, present: IpAddrInfo[], wanted: string[]): BatchLine[] {
  const lines: BatchLine[] = [];
  const have = present.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  for (const addr of wanted) {
    if (have.includes(addr)) continue;
    for (const other of have.filter((a) => !wanted.includes(a))) {
      if (!conf.forceAddress) throw fail(`"${conf.bridge}" already has an IP address different from ${addr}`);
      lines.push({ args: ['addr', 'del', other, 'dev', conf.bridge], tolerate: 'missing' });
    }
    lines.push({ args: ['addr', 'add', addr, 'brd', '+', 'dev', conf.bridge], tolerate: 'exists' });
  }
  return lines;
}

export interface NodePlan {
  conf: BridgeConfig;
  bridgeExists: boolean;
  hostVeth: string;
  podNetns: string;
  ifname: string;
  addressLines: BatchLine[];
}

/** The node-side batch; its last two lines print the bridge and host veth as JSON. */
export function nodeAddLines(p: NodePlan): BatchLine[] {
  const { conf } = p;
  const mtu = conf.mtu !== undefined ? ['mtu', String(conf.mtu)] : [];
  const lines: BatchLine[] = [];
  // Two ADDs may race to create the bridge: "File exists" means the other one won.
  if (!p.bridgeExists) lines.push({ args: ['link', 'add', 'name', conf.bridge, ...mtu, 'type', 'bridge'], tolerate: 'exists' });
  if (conf.promiscMode) lines.push({ args: ['link', 'set', conf.bridge, 'promisc', 'on'] });
  lines.push({ args: ['link', 'set', conf.bridge, 'up'] });
  // The peer is created directly inside the Pod's namespace, so its name never clashes with the node's.
  lines.push({ args: ['link', 'add', p.hostVeth, ...mtu, 'type', 'veth', 'peer', 'name', p.ifname, ...mtu, 'netns', p.podNetns] });
  lines.push({ args: ['link', 'set', p.hostVeth, 'master', conf.bridge, 'up'] });
  if (conf.hairpinMode) lines.push({ args: ['link', 'set', p.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on'] });
  lines.push(...p.addressLines);
  lines.push({ args: ['link', 'show', 'dev', conf.bridge] }, { args: ['link', 'show', 'dev', p.hostVeth] });
  return lines;
}

/** The Pod-side batch; its last line prints the container interface. */
export function podAddLines(ifname: string, ips: CniIPConfig[], routes: CniRoute[]): BatchLine[] {
  const lines: BatchLine[] = [{ args: ['link', 'set', 'lo', 'up'] }];
  for (const ip of ips) lines.push({ args: ['addr', 'add', ip.address, 'brd', '+', 'dev', ifname] });
  lines.push({ args: ['link', 'set', ifname, 'up'] });
  for (const route of routes) {
    // A route without gw goes via the gateway of its address family, as in the reference plugin.
    const gw = route.gw ?? ips.find((ip) => ip.gateway !== undefined)?.gateway;
    lines.push({ args: ['route', 'add', route.dst, ...(gw ? ['via', gw] : []), 'dev', ifname] });
  }
  lines.push({ args: ['link', 'show', 'dev', ifname] });
  return lines;
}

function attachment(conf: BridgeConfig, args: CniArgs): Attachment {
  return { network: conf.name, containerID: args.containerID, ifname: args.ifname };
}

function requireNetns(path: string): void {
  if (!netnsExists(path)) throw fail(`failed to open netns "${path}": failed to Statfs "${path}": no such file or directory`);
}

function linkNamed(out: unknown[][], name: string): IpLink {
  const link = out.flat().find((l) => (l as IpLink).ifname === name) as IpLink | undefined;
  if (!link) throw fail(`${name} was not found after it was configured`);
  return link;
}

/** The link named `name` in this namespace with its IPv4 addresses, read over rtnetlink. */
async function readNodeLink(name: string): Promise<{ kind?: string; addrs: IpAddrInfo[] } | undefined> {
  return withRtnetlink(async (nl) => {
    const link = (await nl.links()).find((l) => l.name === name);
    if (!link) return undefined;
    const addrs = (await nl.addresses()).filter((a) => a.index === link.index);
    return { kind: link.kind, addrs: addrs.map((a) => ({ family: 'inet' as const, local: a.local, prefixlen: a.prefixlen })) };
  });
}

export async function bridgeAdd(conf: BridgeConfig, args: CniArgs): Promise<CniResult> {
  requireNetns(args.netns);
  const bridge = await readNodeLink(conf.bridge);
  if (bridge && bridge.kind !== 'bridge') throw fail(`"${conf.bridge}" already exists but is not a bridge`);

  const att = attachment(conf, args);
  const ipam = conf.ipam ? await ipamAdd(conf.ipam, att, args.args) : { cniVersion: conf.cniVersion, dns: {} };
  const hostVeth = hostVethName();
  try {
    const { ips, routes } = podAddressing(conf, ipam);
    const nodeOut = await ipBatch(
      undefined,
      nodeAddLines({
        conf,
        bridgeExists: bridge !== undefined,
        hostVeth,
        podNetns: args.netns,
        ifname: args.ifname,
        addressLines: bridgeAddressLines(conf, bridge?.addrs ?? [], bridgeAddresses(conf, ips)),
      }),
      { json: true },
    ).catch(async (e: unknown) => {
      // Every other line ran (-force); only the show lines' output is lost: read the links again.
      if (lostAddressRace(e, conf.bridge)) return [await showLinks(undefined)];
      throw vethExists(e, hostVeth, args.ifname);
    });
    await writeSysctls(undefined, [
      { key: `net/ipv6/conf/${conf.bridge}/accept_ra`, value: 0, optional: true },
      ...(conf.isGateway && ips.length > 0 ? [{ key: 'net/ipv4/ip_forward', value: 1 }] : []),
    ]);
    const podOut = await ipBatch(args.netns, podAddLines(args.ifname, ips, routes), {
      json: true,
      sysctls: [{ key: `net/ipv4/conf/${args.ifname}/arp_notify`, value: 1, optional: true }],
    });
    return {
      cniVersion: conf.cniVersion,
      interfaces: [
        { name: conf.bridge, mac: linkNamed(nodeOut, conf.bridge).address },
        { name: hostVeth, mac: linkNamed(nodeOut, hostVeth).address },
        { name: args.ifname, mac: linkNamed(podOut, args.ifname).address, sandbox: args.netns },
      ],
      ips,
      routes,
      dns: ipam.dns,
    };
  } catch (e) {
    // Leave nothing behind: the veth pair (deleting either end removes both) and the reservation.
    await ipBatch(undefined, [{ args: ['link', 'del', hostVeth], tolerate: 'missing' }]).catch(() => undefined);
    if (conf.ipam) await ipamDel(conf.ipam, att).catch(() => undefined);
    throw e;
  }
}

/**
 * Two first ADDs on a node both see cni0 without its gateway address and both add it; the loser's
 * kernel answer is "Address already assigned" (newer iproute2) or "File exists": the address is there.
 */
function lostAddressRace(e: unknown, bridge: string): boolean {
  return (
    e instanceof BatchError &&
    e.failures.every((f) => f.command.startsWith('addr add ') && f.command.endsWith(`dev ${bridge}`) && /Address already assigned|File exists/.test(f.message))
  );
}

/** "File exists" on the veth line means the Pod already has an interface with that name. */
function vethExists(e: unknown, hostVeth: string, ifname: string): unknown {
  if (e instanceof BatchError && e.failures.some((f) => f.command.startsWith(`link add ${hostVeth}`) && /File exists/.test(f.message))) {
    return fail(`container veth name provided (${ifname}) already exists`);
  }
  return e;
}

/** Best effort and idempotent: a missing netns or interface is not an error; the address is released. */
export async function bridgeDel(conf: BridgeConfig, args: CniArgs): Promise<void> {
  if (args.netns !== '' && netnsExists(args.netns)) {
    await ipBatch(args.netns, [{ args: ['link', 'del', 'dev', args.ifname], tolerate: 'missing' }]);
  }
  if (conf.ipam) await ipamDel(conf.ipam, attachment(conf, args));
}

/** Compare the kernel with prevResult: Pod interface, addresses, routes, then the bridge and host veth. */
export async function bridgeCheck(conf: BridgeConfig, args: CniArgs): Promise<void> {
  const prev = conf.prevResult;
  if (!prev) throw fail('Required prevResult missing');
  if (conf.ipam) await ipamCheck(conf.ipam, attachment(conf, args));
  requireNetns(args.netns);

  const [podLinks = [], podRoutes = []] = (await ipBatch(args.netns, [{ args: ['addr', 'show'] }, { args: ['route', 'show'] }], { json: true })) as [
    IpLinkWithAddrs[]?,
    IpRoute[]?,
  ];
  const contIndex = (prev.interfaces ?? []).findIndex((i) => i.name === args.ifname && i.sandbox);
  const cont = podLinks.find((l) => l.ifname === args.ifname);
  if (contIndex < 0 || !cont) throw fail(`Interface name ${args.ifname} not found`);
  const expectedMac = prev.interfaces![contIndex]!.mac;
  if (expectedMac && cont.address !== expectedMac) {
    throw fail(`Interface ${args.ifname} Mac ${expectedMac} doesn't match container Mac: ${cont.address}`);
  }
  const present = cont.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  for (const ip of (prev.ips ?? []).filter((i) => i.interface === contIndex)) {
    if (!present.includes(ip.address)) throw fail(`Failed to match addr ${ip.address} on interface ${args.ifname}`);
  }
  for (const route of prev.routes ?? []) {
    if (!podRoutes.some((r) => routeMatches(r, route))) {
      throw fail(`Expected Route ${route.dst}${route.gw ? ` via ${route.gw}` : ''} not found in routing table`);
    }
  }

  const nodeLinks = await showLinks(undefined);
  const bridge = nodeLinks.find((l) => l.ifname === conf.bridge);
  if (!bridge || bridge.linkinfo?.info_kind !== 'bridge') throw fail(`bridge ${conf.bridge} not found`);
  for (const intf of prev.interfaces ?? []) {
    if (intf.sandbox || intf.name === conf.bridge) continue;
    const veth = nodeLinks.find((l) => l.ifname === intf.name);
    if (!veth) throw fail(`Interface name ${intf.name} not found`);
    if (veth.master !== conf.bridge) throw fail(`Interface ${intf.name} is not attached to bridge ${conf.bridge}`);
  }
}

/** `ip -j route` prints "default" for 0.0.0.0/0 and host routes without "/32". */
function routeMatches(kernel: IpRoute, want: CniRoute): boolean {
  const dst = kernel.dst === 'default' ? '0.0.0.0/0' : kernel.dst.includes('/') ? kernel.dst : `${kernel.dst}/32`;
  const wantPrefix = parsePrefix(want.dst);
  const wantDst = wantPrefix ? formatPrefix(networkOf(wantPrefix), wantPrefix.length) : want.dst;
  if (dst !== wantDst) return false;
  return want.gw === undefined || (parseIPv4(want.gw) !== undefined && kernel.gateway === want.gw);
}
