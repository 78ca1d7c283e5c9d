// The DNS server: UDP and TCP listeners on one address, the header/EDNS rules of CoreDNS's
// core/dnsserver and request packages, and a plugin chain per server block of the Corefile.
//
// Hot path note: a reply is a pure function of (question name lower-cased, type, DO, size class)
// for cacheable zones, so wire bytes can later be cached per that key with the ID and the name's
// spelling patched in; `respond` is the one place that would consult such a cache.

import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket as TcpSocket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { decodeMessage, encodeMessage, encodeWithin } from './wire/codec.js';
import { CLASS_IN, emptyFlags, fqdn, isSubdomain, RCODE, typeName, type Edns, type Message } from './wire/message.js';
import { reply, type DnsRequest, type Plugin, type Reply } from './plugin.js';
import type { Metrics } from './metrics.js';
import { DURATION_BUCKETS, SIZE_BUCKETS } from './metrics.js';

/** EDNS options CoreDNS copies back to the client (NSID, EXPIRE, COOKIE, TCP-KEEPALIVE, PADDING). */
const ECHOED_OPTIONS = new Set([3, 9, 10, 11, 12]);
const MIN_UDP = 512;
const MAX_TCP = 65535;
const TCP_IDLE_MS = 10_000;

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

export class DnsServer {
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Set<TcpSocket>();

  constructor(
    private blocks: ServerBlockChain[],
    private readonly metrics: Metrics,
    private readonly onError: (line: string) => void,
  ) {}

  /** Swaps in new chains (reload) without touching the listeners. */
  replaceBlocks(blocks: ServerBlockChain[]): void {
    this.blocks = blocks;
  }

  /** Runs a query through the chain of the block that serves its name (internal lookups). */
  lookup(req: DnsRequest): Promise<Reply> {
    const block = blockFor(this.blocks, fqdn(req.question.name));
    return block ? runChain(block.plugins, req) : Promise.resolve(reply('', RCODE.REFUSED));
  }

  async listen(address: string, port: number): Promise<{ udpPort: number; tcpPort: number }> {
    const udp = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    this.udp = udp;
    udp.on('message', (msg, rinfo) => {
      void this.respond(msg, 'udp', rinfo.address).then((out) => out && udp.send(out, rinfo.port, rinfo.address));
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
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.respond(msg, 'tcp', sock.remoteAddress ?? '').then((out) => {
          if (!out || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  /** The reply bytes for one query, or undefined to drop it (not even a header). */
  async respond(wire: Buffer, proto: 'udp' | 'tcp', remoteAddress: string): Promise<Buffer | undefined> {
    const started = process.hrtime.bigint();
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
      this.count(query, proto, remoteAddress, r, zone, out.length, wire.length, started);
      return out;
    };
    if (edns && edns.version > 0) return finish(reply('', RCODE.BADVERS), 'dropped');
    if (!q || query.question.length !== 1) return finish(reply('', RCODE.SERVFAIL), 'dropped');
    if (query.flags.opcode !== 0) return finish(reply('', RCODE.NOTIMP), 'dropped');
    if (q.class !== CLASS_IN) return finish(reply('', RCODE.REFUSED), 'dropped');
    const block = blockFor(this.blocks, fqdn(q.name));
    if (!block) return finish(reply('', RCODE.REFUSED), 'dropped');
    const req: DnsRequest = { question: q, proto, remoteAddress, do: edns?.do ?? false, udpSize: edns?.udpSize ?? 0, depth: 0 };
    let r: Reply;
    try {
      r = await runChain(block.plugins, req);
    } catch (e) {
      this.onError(`[ERROR] plugin/errors: 2 ${q.name} ${typeName(q.type)}: ${e instanceof Error ? e.message : String(e)}`);
      r = reply('', RCODE.SERVFAIL);
    }
    const zone = block.zones.filter((z) => isSubdomain(fqdn(q.name), z)).sort((a, b) => b.length - a.length)[0] ?? '.';
    return finish(r, zone);
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

  private count(query: Message, proto: string, remote: string, r: Reply, zone: string, rsize: number, qsize: number, started: bigint): void {
    const m = this.metrics;
    const server = 'dns://:53';
    const t = typeName(query.question[0]?.type ?? 0);
    const type = COMMON_TYPES.has(t) ? t : 'other';
    m.inc('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', { server, zone, view: '', proto, family: isIPv6(remote) ? '2' : '1', type });
    if (query.edns?.do) m.inc('coredns_dns_do_requests_total', 'Counter of DNS requests with DO bit set per zone.', { server, zone, view: '' });
    m.observe('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', DURATION_BUCKETS, { server, zone, view: '', type }, Number(process.hrtime.bigint() - started) / 1e9);
    m.observe('coredns_dns_request_size_bytes', 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', SIZE_BUCKETS, { server, zone, view: '', proto }, qsize);
    m.observe('coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', SIZE_BUCKETS, { server, zone, view: '', proto }, rsize);
    const rc = r.rcode === RCODE.NOERROR ? 'NOERROR' : (Object.entries(RCODE).find(([, v]) => v === r.rcode)?.[0] ?? String(r.rcode));
    m.inc('coredns_dns_responses_total', 'Counter of response status codes.', { server, zone, view: '', rcode: rc, plugin: r.plugin });
  }
}

