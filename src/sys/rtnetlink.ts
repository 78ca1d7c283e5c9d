// rtnetlink through the `netlink` package: links, addresses, routes, neighbours and bridge FDB
// entries of the namespace THIS process runs in. A netlink socket belongs to the netns of the process
// that opened it and the package has no setns, so a component that must reach another namespace
// goes through iproute2 (iproute.ts) instead; the node agent, which runs inside its node's namespace,
// comes here and spawns no process for its kernel state.
//
// Each change is one request and its ACK, plus a lookup of the link's index the first time a socket
// meets a link. A kernel refusal becomes an RtnetlinkError naming the operation and the object (in
// iproute2's words) and the errno with its text.

import { getSystemErrorMap } from 'node:util';
import { AttrStream, createRtNetlink, ifla, rt, type RtNetlinkSocket, type StreamData } from 'netlink';

const AF_INET = 2;
const AF_BRIDGE = 7;
const RT_TABLE_MAIN = 254;
/** rtm_flags bit of `onlink` (RTNH_F_ONLINK); the package's RouteFlags have no name for it. */
const RTNH_F_ONLINK = 4;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

export interface RtVxlanInfo {
  vni?: number;
  local?: string;
  /** Name of the underlay link (IFLA_VXLAN_LINK resolved in this namespace). */
  link?: string;
  port?: number;
  learning?: boolean;
}

export interface RtLink {
  index: number;
  name: string;
  mtu: number;
  /** Lower-case aa:bb:cc:dd:ee:ff; undefined for links without an Ethernet address. */
  mac?: string;
  /** Administratively up (IFF_UP), as `ip link` shows UP in its flags. */
  up: boolean;
  kind?: string;
  vxlan?: RtVxlanInfo;
}

/** IPv4 only, as everything here: flannel's overlay is IPv4. */
export interface RtAddress {
  index: number;
  local: string;
  prefixlen: number;
}

export interface RtRoute {
  /** Always with a prefix length; '0.0.0.0/0' for the default route. */
  dst: string;
  gateway?: string;
  /** Output link name. */
  dev?: string;
  onlink: boolean;
}

export interface RtNeighbour {
  dev: string;
  ip: string;
  mac?: string;
  permanent: boolean;
}

export interface RtFdbEntry {
  dev: string;
  mac: string;
  /** Remote (VXLAN) destination, when the entry has one. */
  dst?: string;
  self: boolean;
  permanent: boolean;
}

export interface VxlanSpec {
  name: string;
  vni: number;
  local: string;
  /** Underlay link name. */
  link: string;
  port: number;
  mtu: number;
  mac: string;
  learning: boolean;
}

export class RtnetlinkError extends Error {
  constructor(
    /** What was asked, in iproute2's words: "route replace 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink". */
    readonly operation: string,
    /** The errno name (EEXIST, ENODEV, …) or the package's message when there is none. */
    readonly code: string,
  ) {
    super(`rtnetlink ${operation}: ${errnoText(code)}`);
    this.name = 'RtnetlinkError';
  }

  /** 'exists' / 'missing' when the kernel refused because the object is already there / not there. */
  refusedAs(): 'exists' | 'missing' | undefined {
    if (this.code === 'EEXIST') return 'exists';
    // ENODEV: no such link; ESRCH: no such route; ENOENT: no such neighbour or FDB entry;
    // EADDRNOTAVAIL: no such address
    return ['ENODEV', 'ESRCH', 'ENOENT', 'EADDRNOTAVAIL'].includes(this.code) ? 'missing' : undefined;
  }
}

function errnoText(code: string): string {
  for (const [name, text] of getSystemErrorMap().values()) if (name === code) return `${text} (${code})`;
  return code;
}

// ---- encoding ----

function ipBytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  }
  return Buffer.from(parts);
}

const formatIp = (b: Buffer) => [...b].join('.');

function macBytes(mac: string): Buffer {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new Error(`invalid MAC address ${JSON.stringify(mac)}`);
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

const formatMac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

function parseCidr(cidr: string): { ip: Buffer; length: number } {
  const [ip = '', length = '32'] = cidr.split('/');
  const n = Number(length);
  if (!Number.isInteger(n) || n < 0 || n > 32) throw new Error(`invalid IPv4 prefix ${JSON.stringify(cidr)}`);
  return { ip: ipBytes(ip), length: n };
}

function streamBuffer(data: StreamData): Buffer {
  const out = new AttrStream();
  out.emit(data);
  return Buffer.concat(out.bufs);
}

function u16be(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

// ---- the socket ----

export class Rtnetlink {
  /** The tail of the request queue (see request()). */
  private last: Promise<unknown> = Promise.resolve();
  /** ifindex → name from the last link dump, until this socket adds or deletes a link. */
  private names?: Map<number, string>;
  /** name → ifindex from dumps and lookups, until this socket adds or deletes a link. */
  private indexes = new Map<string, number>();

  private constructor(private readonly socket: RtNetlinkSocket) {}

  /** A socket in this process's network namespace; close() it when done. */
  static open(): Rtnetlink {
    return new Rtnetlink(createRtNetlink());
  }

  close(): void {
    this.socket.socket.close();
  }

  /**
   * One request at a time: the package reassembles only one multipart (dump) reply per socket, so
   * two dumps in flight would interleave and both fail.
   */
  private request<T>(operation: string, send: () => Promise<T>): Promise<T> {
    const run = this.last.then(send, send).catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      throw new RtnetlinkError(operation, /^Request rejected: (\w+)/.exec(message)?.[1] ?? message);
    });
    this.last = run.catch(() => undefined);
    return run;
  }

  async links(): Promise<RtLink[]> {
    const messages = await this.request('link show', () => this.socket.getLinks());
    const names = new Map(messages.map((m) => [m.data.index ?? 0, m.attrs.ifname ?? '']));
    this.names = names;
    for (const [index, name] of names) this.indexes.set(name, index);
    return messages.map(({ data, attrs }): RtLink => {
      const info = attrs.linkinfo && ifla.parseInfo(attrs.linkinfo);
      const vxlan = info?.kind === 'vxlan' && info.data ? ifla.parseVxlan(info.data) : undefined;
      return {
        index: data.index ?? 0,
        name: attrs.ifname ?? '',
        mtu: attrs.mtu ?? 0,
        mac: attrs.address && attrs.address.length === 6 ? formatMac(attrs.address) : undefined,
        up: data.flags?.up === true,
        kind: info?.kind,
        vxlan: vxlan && {
          vni: vxlan.id,
          local: vxlan.local && formatIp(vxlan.local),
          link: vxlan.link === undefined ? undefined : names.get(vxlan.link),
          port: vxlan.port && vxlan.port.readUInt16BE(0),
          learning: vxlan.learning === undefined ? undefined : vxlan.learning !== 0,
        },
      };
    });
  }

  async addresses(): Promise<RtAddress[]> {
    const messages = await this.request('addr show', () => this.socket.getAddresses({ family: AF_INET }));
    return messages.flatMap(({ data, attrs }): RtAddress[] => {
      const local = attrs.local ?? attrs.address;
      if (local === undefined || data.family !== AF_INET) return [];
      return [{ index: data.index ?? 0, local: formatIp(local), prefixlen: data.prefixlen ?? 0 }];
    });
  }

  /** IPv4 unicast-table routes of the main table, as `ip route show table main` lists them. */
  async routes(): Promise<RtRoute[]> {
    const [messages, names] = await Promise.all([
      this.request('route show table main', () => this.socket.getRoutes({ family: AF_INET })),
      this.linkNames(),
    ]);
    return messages
      .filter(({ data, attrs }) => (attrs.table ?? data.table) === RT_TABLE_MAIN)
      .map(({ data, attrs }): RtRoute => ({
        dst: `${attrs.dst ? formatIp(attrs.dst) : '0.0.0.0'}/${data.dstLen ?? 0}`,
        gateway: attrs.gateway && formatIp(attrs.gateway),
        dev: attrs.oif === undefined ? undefined : names.get(attrs.oif),
        onlink: ((data.flags?.__unknown ?? 0) & RTNH_F_ONLINK) !== 0,
      }));
  }

  async neighbours(): Promise<RtNeighbour[]> {
    const [messages, names] = await Promise.all([
      this.request('neigh show', () => this.socket.getNeighbors({ family: AF_INET })),
      this.linkNames(),
    ]);
    return messages
      .filter(({ data, attrs }) => data.family === AF_INET && attrs.dst !== undefined)
      .map(({ data, attrs }): RtNeighbour => ({
        dev: names.get(data.ifindex ?? 0) ?? '',
        ip: formatIp(attrs.dst as Buffer),
        mac: attrs.lladdr && formatMac(attrs.lladdr),
        permanent: data.state?.permanent === true,
      }));
  }

  /** Bridge forwarding entries of one device (`bridge fdb show dev DEV`). */
  async fdb(dev: string): Promise<RtFdbEntry[]> {
    const index = await this.indexOf(dev, `fdb show dev ${dev}`);
    const messages = await this.request(`fdb show dev ${dev}`, () => this.socket.getNeighbors({ family: AF_BRIDGE }));
    return messages
      .filter(({ data, attrs }) => data.ifindex === index && attrs.lladdr !== undefined)
      .map(({ data, attrs }): RtFdbEntry => ({
        dev,
        mac: formatMac(attrs.lladdr as Buffer),
        dst: attrs.dst && formatIp(attrs.dst),
        self: data.flags?.self === true,
        permanent: data.state?.permanent === true,
      }));
  }

  async createVxlan(spec: VxlanSpec): Promise<void> {
    const what = `link add ${spec.name} type vxlan id ${spec.vni} local ${spec.local} dev ${spec.link} dstport ${spec.port}`;
    const link = await this.indexOf(spec.link, what);
    const data = streamBuffer(
      ifla.formatVxlan({ id: spec.vni, local: ipBytes(spec.local), link, port: u16be(spec.port), learning: spec.learning ? 1 : 0 }),
    );
    const linkinfo = streamBuffer(ifla.formatInfo({ kind: 'vxlan', data }));
    this.forgetLinks();
    await this.request(what, () =>
      this.socket.newLink({}, { ifname: spec.name, mtu: spec.mtu, address: macBytes(spec.mac), linkinfo }, { flags: NLM_F_CREATE | NLM_F_EXCL }),
    );
  }

  async deleteLink(name: string): Promise<void> {
    const what = `link del ${name}`;
    const index = await this.indexOf(name, what);
    this.forgetLinks();
    await this.request(what, () => this.socket.delLink({ index }));
  }

  async setMtu(name: string, mtu: number): Promise<void> {
    const what = `link set ${name} mtu ${mtu}`;
    const index = await this.indexOf(name, what);
    await this.request(what, () => this.socket.setLink({ index }, { mtu }));
  }

  async setMac(name: string, mac: string): Promise<void> {
    const what = `link set ${name} address ${mac}`;
    const index = await this.indexOf(name, what);
    await this.request(what, () => this.socket.setLink({ index }, { address: macBytes(mac) }));
  }

  async setUp(name: string): Promise<void> {
    const what = `link set ${name} up`;
    const index = await this.indexOf(name, what);
    await this.request(what, () => this.socket.setLink({ index, flags: { up: true }, change: { up: true } }));
  }

  async addAddress(dev: string, cidr: string): Promise<void> {
    await this.address('add', dev, cidr);
  }

  async deleteAddress(dev: string, cidr: string): Promise<void> {
    await this.address('del', dev, cidr);
  }

  private async address(op: 'add' | 'del', dev: string, cidr: string): Promise<void> {
    const what = `addr ${op} ${cidr} dev ${dev}`;
    const { ip, length } = parseCidr(cidr);
    const index = await this.indexOf(dev, what);
    const data: rt.Address = { family: AF_INET, prefixlen: length, index };
    const attrs: rt.AddressAttrs = { local: ip, address: ip };
    await this.request(what, () =>
      op === 'add' ? this.socket.newAddress(data, attrs, { flags: NLM_F_CREATE | NLM_F_EXCL }) : this.socket.delAddress(data, attrs),
    );
  }

  /** `ip route replace DST via GW dev DEV [onlink]` in the main table. */
  async replaceRoute(route: Required<RtRoute>): Promise<void> {
    await this.route('replace', route);
  }

  async deleteRoute(route: Required<RtRoute>): Promise<void> {
    await this.route('del', route);
  }

  private async route(op: 'replace' | 'del', r: Required<RtRoute>): Promise<void> {
    const what = `route ${op} ${r.dst} via ${r.gateway} dev ${r.dev}${r.onlink && op === 'replace' ? ' onlink' : ''}`;
    const { ip, length } = parseCidr(r.dst);
    const oif = await this.indexOf(r.dev, what);
    // as iproute2: a new route is a unicast boot-protocol route of universe scope; a delete matches
    // any scope (NOWHERE), type and protocol, and the gateway and device given
    const data: rt.Route =
      op === 'replace'
        ? { family: AF_INET, dstLen: length, table: RT_TABLE_MAIN, protocol: 'BOOT', scope: 'UNIVERSE', type: 'UNICAST' }
        : { family: AF_INET, dstLen: length, table: RT_TABLE_MAIN, scope: 'NOWHERE' };
    if (r.onlink && op === 'replace') data.flags = { __unknown: RTNH_F_ONLINK };
    const attrs: rt.RouteAttrs = { dst: ip, gateway: ipBytes(r.gateway), oif };
    await this.request(what, () =>
      op === 'replace' ? this.socket.newRoute(data, attrs, { flags: NLM_F_CREATE | NLM_F_REPLACE }) : this.socket.delRoute(data, attrs),
    );
  }

  /** `ip neigh replace IP lladdr MAC dev DEV nud permanent`. */
  async replaceNeighbour(dev: string, ip: string, mac: string): Promise<void> {
    const what = `neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`;
    const ifindex = await this.indexOf(dev, what);
    await this.request(what, () =>
      this.socket.newNeighbor(
        { family: AF_INET, ifindex, state: { permanent: true } },
        { dst: ipBytes(ip), lladdr: macBytes(mac) },
        { flags: NLM_F_CREATE | NLM_F_REPLACE },
      ),
    );
  }

  async deleteNeighbour(dev: string, ip: string): Promise<void> {
    const what = `neigh del ${ip} dev ${dev}`;
    const ifindex = await this.indexOf(dev, what);
    await this.request(what, () => this.socket.delNeighbor({ family: AF_INET, ifindex }, { dst: ipBytes(ip) }));
  }

  /** `bridge fdb replace MAC dev DEV dst IP self permanent`: a neighbour of family AF_BRIDGE. */
  async replaceFdb(dev: string, mac: string, dst: string): Promise<void> {
    const what = `fdb replace ${mac} dev ${dev} dst ${dst} self permanent`;
    const ifindex = await this.indexOf(dev, what);
    await this.request(what, () =>
      this.socket.newNeighbor(
        { family: AF_BRIDGE, ifindex, state: { permanent: true }, flags: { self: true } },
        { lladdr: macBytes(mac), dst: ipBytes(dst) },
        { flags: NLM_F_CREATE | NLM_F_REPLACE },
      ),
    );
  }

  async deleteFdb(dev: string, mac: string, dst: string): Promise<void> {
    const what = `fdb del ${mac} dev ${dev} dst ${dst} self`;
    const ifindex = await this.indexOf(dev, what);
    await this.request(what, () =>
      this.socket.delNeighbor({ family: AF_BRIDGE, ifindex, flags: { self: true } }, { lladdr: macBytes(mac), dst: ipBytes(dst) }),
    );
  }

  private forgetLinks(): void {
    this.names = undefined;
    this.indexes.clear();
  }

  private async linkNames(): Promise<Map<number, string>> {
    if (this.names === undefined) await this.links();
    return this.names ?? new Map();
  }

  /** The ifindex of a link, or the ENODEV refusal `ip` would report for the operation. */
  private async indexOf(name: string, operation: string): Promise<number> {
    const known = this.indexes.get(name);
    if (known !== undefined) return known;
    const messages = await this.request(operation, () => this.socket.getLink({}, { ifname: name }));
    const index = messages[0]?.data.index;
    if (index === undefined) throw new RtnetlinkError(operation, 'ENODEV');
    this.indexes.set(name, index);
    return index;
  }
}

/** Run fn with a socket of this namespace, closed afterwards. */
export async function withRtnetlink<T>(fn: (nl: Rtnetlink) => Promise<T>): Promise<T> {
  const nl = Rtnetlink.open();
  try {
    return await fn(nl);
  } finally {
    nl.close();
  }
}
