// Test helpers for the DNS server: a query client with exact EDNS control, a stub upstream that
// answers from a fixed record list, and fixture/profile loading for the conformance cases.

import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { EndpointSlice, KubeObject, Namespace, Pod, Service } from '../../src/api/types.js';
import { exchangeTcp, exchangeUdp } from '../../src/dns/exchange.js';
import type { ZoneObjects } from '../../src/dns/kubernetes/source.js';
import { decodeMessage, encodeMessage } from '../../src/dns/wire/codec.js';
import { CLASS_IN, emptyFlags, RCODE, TYPE, typeFromName, type Message, type RR } from '../../src/dns/wire/message.js';

export const CONFORMANCE_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'conformance', 'dns');

export interface QueryOptions {
  transport: 'udp' | 'tcp';
  /** EDNS UDP size; undefined = no OPT record */
  udpSize?: number;
  timeoutMs?: number;
}

let nextId = 1;

export async function query(port: number, name: string, type: number, opts: QueryOptions): Promise<Message> {
  const q: Message = {
    id: nextId++ & 0xffff,
    flags: { ...emptyFlags(), rd: true },
    rcode: 0,
    question: [{ name, type, class: CLASS_IN }],
    answer: [],
    authority: [],
    additional: [],
    ...(opts.udpSize !== undefined ? { edns: { udpSize: opts.udpSize, extRcode: 0, version: 0, do: false, options: [] } } : {}),
  };
  const to = { host: '127.0.0.1', port };
  const wire = encodeMessage(q);
  const raw = opts.transport === 'tcp' ? await exchangeTcp(to, wire, opts.timeoutMs ?? 3000) : await exchangeUdp(to, wire, opts.timeoutMs ?? 3000);
  return decodeMessage(raw);
}

/** Parses `owner TTL IN TYPE rdata` as the cases write it. */
export function parseRRLine(line: string): RR {
  const [name, ttl, , type, ...rest] = line.trim().split(/\s+/);
  const t = typeFromName(type!)!;
  const a = rest;
  const data: RR['data'] =
    t === TYPE.A || t === TYPE.AAAA
      ? { kind: 'address', ip: a[0]! }
      : t === TYPE.SOA
        ? { kind: 'soa', mname: a[0]!, rname: a[1]!, serial: +a[2]!, refresh: +a[3]!, retry: +a[4]!, expire: +a[5]!, minimum: +a[6]! }
        : t === TYPE.SRV
          ? { kind: 'srv', priority: +a[0]!, weight: +a[1]!, port: +a[2]!, target: a[3]! }
          : t === TYPE.MX
            ? { kind: 'mx', preference: +a[0]!, exchange: a[1]! }
            : t === TYPE.TXT
              ? { kind: 'txt', texts: [JSON.parse(a.join(' ')) as string] }
              : { kind: 'name', target: a[0]! };
  return { name: name!, type: t, class: CLASS_IN, ttl: Number(ttl), data };
}

/**
 * A stub upstream resolver on 127.0.0.x: answers from `records` (exact name and type), NXDOMAIN
 * with the SOA of the enclosing zone otherwise; `tc` sets TC on every reply.
 */
export class StubUpstream {
  private sock: Socket | undefined;
  private tcp: import('node:net').Server | undefined;
  port = 0;
  readonly queries: string[] = [];

  constructor(
    readonly host: string,
    private readonly records: RR[],
    private readonly tc: boolean,
  ) {}

  answer(q: Message): Message {
    const question = q.question[0]!;
    this.queries.push(question.name);
    const lname = question.name.toLowerCase();
    const answer = this.records.filter((r) => r.name.toLowerCase() === lname && r.type === question.type);
    const exists = this.records.some((r) => r.name.toLowerCase() === lname);
    const soa = this.records.filter((r) => r.type === TYPE.SOA && (lname === r.name.toLowerCase() || lname.endsWith(`.${r.name.toLowerCase()}`)));
    return {
      id: q.id,
      flags: { ...emptyFlags(), qr: true, rd: q.flags.rd, ra: true, aa: true, tc: this.tc },
      rcode: answer.length || exists ? RCODE.NOERROR : RCODE.NXDOMAIN,
      question: q.question,
      answer,
      authority: answer.length ? [] : soa,
      additional: [],
    };
  }

  /** UDP and TCP on one free port; another pair when another process holds the number for TCP. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw e;
        this.sock?.close();
      }
    }
  }

  private async startOnce(): Promise<void> {
    const sock = createSocket('udp4');
    this.sock = sock;
    sock.on('message', (msg, rinfo) => sock.send(encodeMessage(this.answer(decodeMessage(msg))), rinfo.port, rinfo.address));
    await new Promise<void>((resolve) => sock.bind(0, this.host, () => resolve()));
    this.port = sock.address().port;
    const { createServer } = await import('node:net');
    this.tcp = createServer((c) => {
      c.on('data', (d) => {
        const out = encodeMessage(this.answer(decodeMessage(d.subarray(2))));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        c.end(Buffer.concat([len, out]));
      });
      c.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      this.tcp!.once('error', reject);
      this.tcp!.listen(this.port, this.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    this.sock?.close();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }
}

const FIXTURE_FILES: Record<string, string> = { unit: 'objects.yaml', reverse: 'objects-reverse.yaml', ci: 'objects-ci.yaml', e2e: 'objects-e2e.yaml' };

export function loadFixture(name: string): ZoneObjects {
  const docs = parseAllDocuments(readFileSync(path.join(CONFORMANCE_DIR, FIXTURE_FILES[name]!), 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null);
  return {
    namespaces: docs.filter((d): d is Namespace => d.kind === 'Namespace'),
    services: docs.filter((d): d is Service => d.kind === 'Service'),
    endpointSlices: docs.filter((d): d is EndpointSlice => d.kind === 'EndpointSlice'),
    pods: docs.filter((d): d is Pod => d.kind === 'Pod'),
  };
}
