// The DNS server: UDP and TCP listeners on one address, the header/EDNS rules of CoreDNS's
// core/dnsserver and request packages, and a plugin chain per server block of the Corefile.
//
// Hot path: a reply that came from in-memory data (kubernetes, file) is a pure function of the
// question as spelled, the EDNS size and DO bit, and the chain's data version, so its bytes are
// kept and replayed (wire/answer-cache.ts) until a plugin's data changes or the config reloads.
// The key keeps the name's exact spelling rather than patching another spelling in: answers carry
// the query's spelling beyond the question (owners, the zone part of SRV targets and SOA), and
// stub resolvers repeat a name in one spelling anyway.

import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket as TcpSocket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AnswerCache, replay, storable, type StoredReply } from './wire/answer-cache.js';
import { decodeMessage, encodeMessage, encodeWithin } from './wire/codec.js';
import { readSimpleQuery } from './wire/simple-query.js';
import { CLASS_IN, emptyFlags, fqdn, isSubdomain, RCODE, rcodeName, typeName, type Edns, type Message } from './wire/message.js';
import { reply, type DnsRequest, type Plugin, type Reply } from './plugin.js';
import { DURATION_BUCKETS, SIZE_BUCKETS, type Counter, type Histogram, type Metrics } from './metrics.js';

/** EDNS options CoreDNS copies back to the client (NSID, EXPIRE, COOKIE, TCP-KEEPALIVE, PADDING). */
const ECHOED_OPTIONS = new Set([3, 9, 10, 11, 12]);
const MIN_UDP = 512;
const MAX_TCP = 65535;
const TCP_IDLE_MS = 10_000;
const ANSWER_CACHE_SIZE = 10_000;
const LISTEN_ATTEMPTS = 5;
/** Distinct label combinations kept built; random query types in a flood cannot grow it past this. */
const MAX_LABEL_SETS = 1_000;

/** The metric series one kind of request counts into, found once (Metrics.counter/histogram). */
interface RequestSeries {
  requests: Counter;
  /** made on the first DO query, so a server that never saw one shows no such series */
  doRequests: Counter;
  duration: Histogram;
  requestSize: Histogram;
  responseSize: Histogram;
  responses: Counter;
}

/** Plugins whose replies depend only on the question and their data version. */
const DETERMINISTIC = new Set(['kubernetes', 'file']);
/** Plugins that must see every query (log) or answer per client (autopath): no replays. */
const PER_QUERY = new Set(['log', 'autopath']);

export interface ServerBlockChain {
  zones: string[];
  plugins: Plugin[];
}

/** Runs `req` through a chain; past the last plugin the answer is SERVFAIL (no next plugin). */
export function runChain(plugins: Plugin[], req: DnsRequest, i = 0): Promise<Reply> {
  const p = plugins[i];
  if (!p) return Promise.resolve(reply('', RCODE.SERVFAIL));
  return p.serve(req, (r) => runChain(plugins, r, i + 1));
}

/** The block whose zone is the longest match of `qname`. */
export function blockFor(blocks: ServerBlockChain[], qname: string): ServerBlockChain | undefined {
  let best: ServerBlockChain | undefined;
  let bestLen = -1;
  for (const b of blocks) for (const z of b.zones) if (isSubdomain(qname, z) && z.length > bestLen) [best, bestLen] = [b, z.length];
  return best;
}

const COMMON_TYPES = new Set(['A', 'AAAA', 'CNAME', 'HINFO', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'AXFR', 'IXFR', 'ANY', 'NAPTR', 'DS', 'DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'OPT']);

/** The data a reply was made from: the chain's versioned plugins (Plugin.current) and what each reported. */
interface DataVersions {
  plugins: Plugin[];
  versions: unknown[];
}

function versionsOf(block: ServerBlockChain): DataVersions {
  const plugins = block.plugins.filter((p) => p.current);
  return { plugins, versions: plugins.map((p) => p.current!()) };
}

/** Whether every versioned plugin still reports the version it had (compared by identity). */
function versionsMatch(v: DataVersions): boolean {
  for (let i = 0; i < v.plugins.length; i++) if (v.plugins[i]!.current!() !== v.versions[i]) return false;
  return true;
}

/** What a replay needs besides the bytes: the data it was made from and where it is counted. */
interface ReplayMeta {
  versions: DataVersions;
  zone: string;
  rcode: number;
  plugin: string;
  /** the metric series of a replay, per client address family (IPv4, IPv6), made on first use */
  series: [RequestSeries | undefined, RequestSeries | undefined];
}

const madeOnFirstUse = (make: () => Counter): Counter => {
  let c: Counter | undefined;
  return { inc: () => (c ??= make()).inc() };
};

const familyOf = (remoteAddress: string): 1 | 2 => (remoteAddress.includes(':') ? 2 : 1);

/**
 * dgram's address lookup for sends: every address here is the IP literal a datagram came from, so
 * it is passed through at once instead of through dns.lookup, which answers on the next tick.
 */
const literalAddress =
  (family: 4 | 6) =>
  (address: string, _family: unknown, cb: (err: null, address: string, family: number) => void): void =>
    cb(null, address, family);

/**
 * Replies leave in bursts: libuv reads up to 32 waiting datagrams per poll, and the replies to
 * them are sent together once that batch is read (setImmediate runs right after the poll phase).
 * Sent one by one between reads, most replies land on a client that went back to sleep and each
 * pays a cross-CPU wakeup; sent back to back, one wakeup serves the burst.
 */
class UdpReplies {
  private readonly bytes: Buffer[] = [];
  private readonly ports: number[] = [];
  private readonly addresses: string[] = [];
  private scheduled = false;
  private closed = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    const n = this.closed ? 0 : this.bytes.length;
    for (let i = 0; i < n; i++) this.udp.send(this.bytes[i]!, this.ports[i], this.addresses[i]);
    this.bytes.length = this.ports.length = this.addresses.length = 0;
  };

  constructor(private readonly udp: Socket) {}

  queue(out: Buffer, port: number, address: string): void {
    if (this.closed) return;
    this.bytes.push(out);
    this.ports.push(port);
    this.addresses.push(address);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Drops what is queued: the socket is closing (a send on it would throw). */
  close(): void {
    this.closed = true;
  }
}

export class DnsServer {
  private udp: Socket | undefined;
  private udpReplies: UdpReplies | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Set<TcpSocket>();
  private readonly answers = { udp: new AnswerCache<ReplayMeta>(ANSWER_CACHE_SIZE), tcp: new AnswerCache<ReplayMeta>(ANSWER_CACHE_SIZE) };
  private readonly series = new Map<string, RequestSeries>();
  /** internal lookups so far; a reply made while one ran may hold forwarded data and is not kept */
  private lookups = 0;

  constructor(
    private blocks: ServerBlockChain[],
    private readonly metrics: Metrics,
    private readonly onError: (line: string) => void,
  ) {}

  /** Swaps in new chains (reload) without touching the listeners. */
  replaceBlocks(blocks: ServerBlockChain[]): void {
    this.blocks = blocks;
    this.answers.udp.clear();
    this.answers.tcp.clear();
  }

  /** Runs a query through the chain of the block that serves its name (internal lookups). */
  lookup(req: DnsRequest): Promise<Reply> {
    this.lookups++;
    const block = blockFor(this.blocks, fqdn(req.question.name));
    return block ? runChain(block.plugins, req) : Promise.resolve(reply('', RCODE.REFUSED));
  }

  /**
   * UDP and TCP on one port. Port 0 picks a free UDP port and takes the same number for TCP; when
   * another process holds that number for TCP, a new pair is tried (a few times).
   */
  async listen(address: string, port: number): Promise<{ udpPort: number; tcpPort: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listenOnce(address, port);
      } catch (e) {
        const taken = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (port !== 0 || !taken || attempt >= LISTEN_ATTEMPTS) throw e;
        await this.close();
      }
    }
  }

  private async listenOnce(address: string, port: number): Promise<{ udpPort: number; tcpPort: number }> {
    const family = isIPv6(address) ? 6 : 4;
    const udp = createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: literalAddress(family) });
    this.udp = udp;
    const replies = (this.udpReplies = new UdpReplies(udp));
    udp.on('message', (msg, rinfo) => {
      const stored = this.replayed(msg, 'udp', rinfo.address);
      if (stored) replies.queue(stored, rinfo.port, rinfo.address);
      else
        void this.respond(msg, 'udp', rinfo.address).then((out) => {
          if (out) replies.queue(out, rinfo.port, rinfo.address);
        });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    const udpPort = udp.address().port;
    const tcp = createServer((sock) => this.serveTcp(sock));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port === 0 ? udpPort : port, address, () => resolve());
    });
    this.tcp = tcp;
    return { udpPort, tcpPort: (tcp.address() as AddressInfo).port };
  }

  async close(): Promise<void> {
    this.udpReplies?.close();
    this.udp?.close();
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }

  private serveTcp(sock: TcpSocket): void {
    this.conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.end());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    const remote = sock.remoteAddress ?? '';
    const send = (out: Buffer | undefined): void => {
      if (!out || sock.destroyed) return;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(out.length);
      // a client that sends faster than it reads stops being read until it catches up
      if (!sock.write(Buffer.concat([len, out]))) sock.pause();
    };
    sock.on('drain', () => sock.resume());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const stored = this.replayed(msg, 'tcp', remote);
        if (stored) send(stored);
        else void this.respond(msg, 'tcp', remote).then(send);
      }
    });
  }

  /** The stored reply for this exact query, replayed, when one is still valid; else undefined. */
  replayed(wire: Buffer, proto: 'udp' | 'tcp', remoteAddress: string): Buffer | undefined {
    const simple = readSimpleQuery(wire);
    if (!simple) return undefined;
    const answers = this.answers[proto];
    const e = answers.get(simple.key);
    if (!e) return undefined;
    const now = Date.now();
    if (now >= e.expiresAt || !versionsMatch(e.meta.versions)) {
      answers.delete(simple.key);
      return undefined;
    }
    const started = performance.now();
    const out = replay(e, wire, now);
    const m = e.meta;
    const family = familyOf(remoteAddress);
    const series = (m.series[family - 1] ??= this.seriesFor(m.zone, proto, family, simple.qtype, m.rcode, m.plugin));
    this.count(series, simple.do, out.length, wire.length, started);
    return out;
  }

  /** The reply bytes for one query, or undefined to drop it (not even a header). */
  async respond(wire: Buffer, proto: 'udp' | 'tcp', remoteAddress: string): Promise<Buffer | undefined> {
    const started = performance.now();
    let query: Message;
    try {
      query = decodeMessage(wire);
    } catch {
      if (wire.length < 12 || (wire[2]! & 0x80) !== 0) return undefined;
      return encodeMessage(this.header({ id: wire.readUInt16BE(0), flags: emptyFlags(), rcode: 0, question: [], answer: [], authority: [], additional: [] }, RCODE.FORMERR));
    }
    if (query.flags.qr) return undefined;
    const q = query.question[0];
    const edns = query.edns;
    const limit = proto === 'tcp' ? MAX_TCP : Math.max(MIN_UDP, edns?.udpSize ?? 0);
    const finish = (r: Reply, zone: string): Buffer => {
      const out = encodeWithin(this.message(query, r), limit);
      this.count(this.seriesFor(zone, proto, familyOf(remoteAddress), q?.type ?? 0, r.rcode, r.plugin), edns?.do ?? false, out.length, wire.length, started);
      return out;
    };
    if (edns && edns.version > 0) return finish(reply('', RCODE.BADVERS), 'dropped');
    if (!q || query.question.length !== 1) return finish(reply('', RCODE.SERVFAIL), 'dropped');
    if (query.flags.opcode !== 0) return finish(reply('', RCODE.NOTIMP), 'dropped');
    if (q.class !== CLASS_IN) return finish(reply('', RCODE.REFUSED), 'dropped');
    const block = blockFor(this.blocks, fqdn(q.name));
    if (!block) return finish(reply('', RCODE.REFUSED), 'dropped');
    const req: DnsRequest = { question: q, proto, remoteAddress, do: edns?.do ?? false, udpSize: edns?.udpSize ?? 0, depth: 0 };
    // taken before the chain runs, so a change while it runs makes the stored reply stale at once
    const versions = versionsOf(block);
    const lookupsBefore = this.lookups;
    let r: Reply;
    try {
      r = await runChain(block.plugins, req);
    } catch (e) {
      this.onError(`[ERROR] plugin/errors: 2 ${q.name} ${typeName(q.type)}: ${e instanceof Error ? e.message : String(e)}`);
      r = reply('', RCODE.SERVFAIL);
    }
    const zone = block.zones.filter((z) => isSubdomain(fqdn(q.name), z)).sort((a, b) => b.length - a.length)[0] ?? '.';
    const out = finish(r, zone);
    const simple = readSimpleQuery(wire);
    if (simple && this.lookups === lookupsBefore && this.replayable(block, r)) {
      const stored = this.storable(out, block, { versions, zone, rcode: r.rcode, plugin: r.plugin, series: [undefined, undefined] });
      if (stored) this.answers[proto].set(simple.key, stored);
    }
    return out;
  }

  /**
   * A complete reply from in-memory data, in a chain that does not answer per client. (Replies
   * that needed an internal lookup, e.g. an ExternalName chased through forward, are already out.)
   */
  private replayable(block: ServerBlockChain, r: Reply): boolean {
    if (!DETERMINISTIC.has(r.plugin) || r.tc) return false;
    if (r.rcode !== RCODE.NOERROR && r.rcode !== RCODE.NXDOMAIN) return false;
    return !block.plugins.some((p) => PER_QUERY.has(p.name));
  }

  private storable(out: Buffer, block: ServerBlockChain, meta: ReplayMeta): StoredReply<ReplayMeta> | undefined {
    if ((out[2]! & 0x02) !== 0) return undefined; // truncated to fit: the client retries over TCP
    const has = (name: string): boolean => block.plugins.some((p) => p.name === name);
    return storable(out, { aging: has('cache'), shuffle: has('loadbalance'), now: Date.now(), meta });
  }

  private header(m: Message, rcode: number): Message {
    return { ...m, flags: { ...m.flags, qr: true }, rcode };
  }

  private message(query: Message, r: Reply): Message {
    const edns: Edns | undefined = query.edns
      ? { udpSize: query.edns.udpSize, extRcode: 0, version: 0, do: query.edns.do, options: query.edns.options.filter((o) => ECHOED_OPTIONS.has(o.code)) }
      : undefined;
    return {
      id: query.id,
      flags: { qr: true, opcode: query.flags.opcode, aa: r.aa, tc: r.tc, rd: query.flags.rd, ra: r.ra, ad: false, cd: query.flags.cd },
      rcode: edns ? r.rcode : r.rcode & 0xf,
      question: query.question,
      answer: r.answer,
      authority: r.authority,
      additional: r.additional,
      ...(edns ? { edns } : {}),
    };
  }

  /** The series of one kind of request; found once, then reused by every request of that kind. */
  private seriesFor(zone: string, proto: string, family: 1 | 2, qtype: number, rcode: number, plugin: string): RequestSeries {
    const t = typeName(qtype);
    const type = COMMON_TYPES.has(t) ? t : 'other';
    const k = `${zone}|${proto}|${family}|${type}|${rcode}|${plugin}`;
    let s = this.series.get(k);
    if (!s) {
      const m = this.metrics;
      const server = 'dns://:53';
      const size = { server, zone, view: '', proto };
      s = {
        requests: m.counter('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', { server, zone, view: '', proto, family: String(family), type }),
        doRequests: madeOnFirstUse(() => m.counter('coredns_dns_do_requests_total', 'Counter of DNS requests with DO bit set per zone.', { server, zone, view: '' })),
        duration: m.histogram('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', DURATION_BUCKETS, { server, zone, view: '', type }),
        requestSize: m.histogram('coredns_dns_request_size_bytes', 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', SIZE_BUCKETS, size),
        responseSize: m.histogram('coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', SIZE_BUCKETS, size),
        responses: m.counter('coredns_dns_responses_total', 'Counter of response status codes.', { server, zone, view: '', rcode: rcodeName(rcode), plugin }),
      };
      if (this.series.size >= MAX_LABEL_SETS) this.series.clear();
      this.series.set(k, s);
    }
    return s;
  }

  private count(s: RequestSeries, doBit: boolean, rsize: number, qsize: number, started: number): void {
    s.requests.inc();
    if (doBit) s.doRequests.inc();
    s.duration.observe((performance.now() - started) / 1e3);
    s.requestSize.observe(qsize);
    s.responseSize.observe(rsize);
    s.responses.inc();
  }
}
