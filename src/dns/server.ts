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
import { readSimpleQuery, type SimpleQuery } from './wire/simple-query.js';
import { CLASS_IN, emptyFlags, fqdn, isSubdomain, RCODE, rcodeName, typeName, type Edns, type Message } from './wire/message.js';
import { reply, type DnsRequest, type Plugin, type Reply } from './plugin.js';
import type { Metrics } from './metrics.js';
import { DURATION_BUCKETS, SIZE_BUCKETS } from './metrics.js';

/** EDNS options CoreDNS copies back to the client (NSID, EXPIRE, COOKIE, TCP-KEEPALIVE, PADDING). */
const ECHOED_OPTIONS = new Set([3, 9, 10, 11, 12]);
const MIN_UDP = 512;
const MAX_TCP = 65535;
const TCP_IDLE_MS = 10_000;
const ANSWER_CACHE_SIZE = 10_000;
/** Distinct label combinations kept built; random query types in a flood cannot grow it past this. */
const MAX_LABEL_SETS = 1_000;

type Labels = Record<string, string>;
interface RequestLabels {
  requests: Labels;
  zone: Labels;
  duration: Labels;
  size: Labels;
  responses: Labels;
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

/** What a replay needs besides the bytes: the data it was made from and its metric labels. */
interface ReplayMeta {
  block: ServerBlockChain;
  versions: unknown[];
  zone: string;
  rcode: number;
  plugin: string;
}

/** The data versions of a chain's plugins (Plugin.current), compared by identity. */
function versionsOf(block: ServerBlockChain): unknown[] {
  const out: unknown[] = [];
  for (const p of block.plugins) if (p.current) out.push(p.current());
  return out;
}

/** Whether every versioned plugin of the block still reports the version it had (no allocation: hot path). */
function versionsMatch(block: ServerBlockChain, versions: unknown[]): boolean {
  let i = 0;
  for (const p of block.plugins) if (p.current && p.current() !== versions[i++]) return false;
  return i === versions.length;
}

export class DnsServer {
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Set<TcpSocket>();
  private readonly answers = new AnswerCache<ReplayMeta>(ANSWER_CACHE_SIZE);
  private readonly labels = new Map<string, RequestLabels>();
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
    this.answers.clear();
  }

  /** Runs a query through the chain of the block that serves its name (internal lookups). */
  lookup(req: DnsRequest): Promise<Reply> {
    this.lookups++;
    const block = blockFor(this.blocks, fqdn(req.question.name));
    return block ? runChain(block.plugins, req) : Promise.resolve(reply('', RCODE.REFUSED));
  }

  async listen(address: string, port: number): Promise<{ udpPort: number; tcpPort: number }> {
    const udp = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    this.udp = udp;
    udp.on('message', (msg, rinfo) => {
      const send = (out: Buffer | undefined): void => {
        if (out) udp.send(out, rinfo.port, rinfo.address);
      };
      const stored = this.replayed(msg, 'udp', rinfo.address);
      if (stored) send(stored);
      else void this.respond(msg, 'udp', rinfo.address).then(send);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    const udpPort = udp.address().port;
    const tcp = createServer((sock) => this.serveTcp(sock));
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port === 0 ? udpPort : port, address, () => resolve());
    });
    return { udpPort, tcpPort: (tcp.address() as AddressInfo).port };
  }

  async close(): Promise<void> {
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
    const key = `${proto}${simple.key}`;
    const e = this.answers.get(key);
    if (!e) return undefined;
    const now = Date.now();
    if (now >= e.expiresAt || !versionsMatch(e.meta.block, e.meta.versions)) {
      this.answers.delete(key);
      return undefined;
    }
    const started = performance.now();
    const out = replay(e, wire, now);
    const m = e.meta;
    this.count(simple.qtype, simple.edns?.do ?? false, proto, remoteAddress, m.rcode, m.plugin, m.zone, out.length, wire.length, started);
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
      this.count(q?.type ?? 0, edns?.do ?? false, proto, remoteAddress, r.rcode, r.plugin, zone, out.length, wire.length, started);
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
      const stored = this.storable(out, block, { block, versions, zone, rcode: r.rcode, plugin: r.plugin });
      if (stored) this.answers.set(`${proto}${simple.key}`, stored);
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

  /** The label sets of one kind of request; built once, so the metrics registry keys them once. */
  private labelsFor(zone: string, proto: string, family: string, type: string, rcode: number, plugin: string): RequestLabels {
    const k = `${zone}|${proto}|${family}|${type}|${rcode}|${plugin}`;
    let l = this.labels.get(k);
    if (!l) {
      const server = 'dns://:53';
      const rc = rcodeName(rcode);
      l = {
        requests: { server, zone, view: '', proto, family, type },
        zone: { server, zone, view: '' },
        duration: { server, zone, view: '', type },
        size: { server, zone, view: '', proto },
        responses: { server, zone, view: '', rcode: rc, plugin },
      };
      if (this.labels.size >= MAX_LABEL_SETS) this.labels.clear();
      this.labels.set(k, l);
    }
    return l;
  }

  private count(qtype: number, doBit: boolean, proto: string, remote: string, rcode: number, plugin: string, zone: string, rsize: number, qsize: number, started: number): void {
    const m = this.metrics;
    const t = typeName(qtype);
    const l = this.labelsFor(zone, proto, remote.includes(':') ? '2' : '1', COMMON_TYPES.has(t) ? t : 'other', rcode, plugin);
    m.inc('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', l.requests);
    if (doBit) m.inc('coredns_dns_do_requests_total', 'Counter of DNS requests with DO bit set per zone.', l.zone);
    m.observe('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', DURATION_BUCKETS, l.duration, (performance.now() - started) / 1e3);
    m.observe('coredns_dns_request_size_bytes', 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', SIZE_BUCKETS, l.size, qsize);
    m.observe('coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', SIZE_BUCKETS, l.size, rsize);
    m.inc('coredns_dns_responses_total', 'Counter of response status codes.', l.responses);
  }

}

