// Robustness of the DNS server against hostile input: more than 100,000 random and mutated
// packets over UDP and TCP. Every reply must be a well-formed response to one of the packets
// sent, the server must keep answering valid queries, and its memory must stay bounded.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import type { Namespace, Service } from '../../src/api/types.js';
import { StaticZoneSource } from '../../src/dns/kubernetes/source.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/main.js';
import { decodeMessage, encodeMessage } from '../../src/dns/wire/codec.js';
import { CLASS_IN, emptyFlags, RCODE, TYPE, type Message } from '../../src/dns/wire/message.js';
import { query } from './dns-harness.js';

const UDP_PACKETS = 100_000;
const TCP_CONNECTIONS = 40;
const FRAMES_PER_CONNECTION = 150;
const UDP_BATCH = 50;

/** mulberry32: a small seeded generator, so a failure can be replayed from its seed. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const objects = {
  namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } } satisfies Namespace],
  services: Array.from({ length: 20 }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `web${i}`, namespace: 'app' },
    spec: { clusterIP: `10.96.0.${i + 10}`, clusterIPs: [`10.96.0.${i + 10}`], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  }) satisfies Service),
  endpointSlices: [],
  pods: [],
};

const TYPES = [TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.PTR, TYPE.TXT, TYPE.SOA, TYPE.NS, TYPE.ANY, 99];

function validQuery(r: (n: number) => number, id: number): Buffer {
  const svc = `web${r(30)}`;
  const names = [`${svc}.app.svc.cluster.local.`, `_http._tcp.${svc}.app.svc.cluster.local.`, `${svc}.app.app.svc.cluster.local.`, 'cluster.local.', 'example.org.', `${r(256)}.0.96.10.in-addr.arpa.`];
  let name = names[r(names.length)]!;
  if (r(4) === 0) name = [...name].map((c) => (r(2) ? c.toUpperCase() : c)).join('');
  const m: Message = {
    id,
    flags: { ...emptyFlags(), rd: r(2) === 1 },
    rcode: 0,
    question: [{ name, type: TYPES[r(TYPES.length)]!, class: CLASS_IN }],
    answer: [],
    authority: [],
    additional: [],
    ...(r(2) ? { edns: { udpSize: [0, 512, 1232, 4096][r(4)]!, extRcode: 0, version: 0, do: r(2) === 1, options: [] } } : {}),
  };
  return encodeMessage(m);
}

function header(id: number, counts: [number, number, number, number], flags = 0x0100): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return h;
}

/** One hostile packet; the shapes the task names, each with random details. */
function hostile(r: (n: number) => number, id: number): Buffer {
  const valid = validQuery(r, id);
  switch (r(10)) {
    case 0: {
      // random bytes behind our ID
      const b = Buffer.from(Array.from({ length: r(600) }, () => r(256)));
      if (b.length >= 2) b.writeUInt16BE(id, 0);
      return b;
    }
    case 1: // truncated: a valid query cut anywhere, headers included
      return valid.subarray(0, r(valid.length));
    case 2: {
      // valid query with flipped bits (ID bytes left alone so the reply can be matched)
      const b = Buffer.from(valid);
      for (let k = 1 + r(8); k > 0; k--) {
        const at = 2 + r(b.length - 2);
        b[at] = b[at]! ^ (1 << r(8));
      }
      return b;
    }
    case 3: // bad label lengths: longer than the rest, or in the reserved 64..191 range
      return Buffer.concat([header(id, [1, 0, 0, 0]), Buffer.from([r(2) ? 60 : 64 + r(128), 0x61, 0x62, 0]), Buffer.from([0, 1, 0, 1])]);
    case 4: {
      // compression: pointer to itself, forward past the end, or a two-pointer loop
      const kind = r(3);
      const name = kind === 0 ? [0xc0, 12] : kind === 1 ? [0xc0 | r(64), 200 + r(56)] : [1, 0x61, 0xc0, 16, 0xc0, 12];
      return Buffer.concat([header(id, [1, 0, 0, 0]), Buffer.from(name), Buffer.from([0, 1, 0, 1])]);
    }
    case 5: // huge counts with little behind them
      return Buffer.concat([header(id, [r(2) ? 65535 : 1, 65535 - r(10), r(65536), r(65536)]), valid.subarray(12)]);
    case 6: {
      // bad OPT: length past the end, truncated options, unknown versions, two OPTs
      const question = Buffer.from([3, 0x77, 0x65, 0x62, 0, 0, 1, 0, 1]);
      const opt = (version: number, rdlen: number, rdata: number[]): Buffer => Buffer.from([0, 0, 41, 0x10, 0x00, 0, version, 0x80, 0, rdlen >> 8, rdlen & 0xff, ...rdata]);
      const variants = [
        [opt(0, 500, [0, 10, 0, 8])],
        [opt(0, 6, [0, 10, 0, 40, 1, 2])],
        [opt(1 + r(255), 0, [])],
        [opt(0, 0, []), opt(0, 0, [])],
        [opt(0, 4, [0, 0xff, 0xff, 0xff])],
      ];
      const parts = variants[r(variants.length)]!;
      return Buffer.concat([header(id, [1, 0, 0, parts.length]), question, ...parts]);
    }
    case 7: // a response (QR set): must be dropped
      return Buffer.concat([Buffer.from([valid[0]!, valid[1]!, 0x81, 0x80]), valid.subarray(4)]);
    case 8: // odd opcodes and classes
      return Buffer.concat([Buffer.from([valid[0]!, valid[1]!, (r(16) << 3) | 1, 0]), valid.subarray(4, valid.length - 2), Buffer.from([r(256), r(256)])]);
    default:
      return valid;
  }
}

/** What is wrong with a reply, if anything: it must be a response (QR), at least a header, with an ID we sent. */
function replyProblem(reply: Buffer, sentIds: Set<number>): string | undefined {
  if (reply.length < 12) return `reply of ${reply.length} bytes`;
  if ((reply[2]! & 0x80) === 0) return `reply without QR: ${reply.subarray(0, 12).toString('hex')}`;
  if (!sentIds.has(reply.readUInt16BE(0))) return `reply to an ID never sent: ${reply.readUInt16BE(0)}`;
  return undefined;
}

async function stillAnswers(port: number): Promise<void> {
  const m = await query(port, 'web1.app.svc.cluster.local.', TYPE.A, { transport: 'udp', udpSize: 1232 });
  expect(m.rcode).toBe(RCODE.NOERROR);
  expect(m.answer.map((a) => (a.data.kind === 'address' ? a.data.ip : ''))).toEqual(['10.96.0.11']);
}

let dns: ClusterDns;

beforeAll(async () => {
  dns = await startClusterDns({
    source: new StaticZoneSource(objects),
    corefile: '.:53 {\n  errors\n  kubernetes cluster.local in-addr.arpa\n  cache 30\n  loadbalance\n}\n',
    listen: { address: '127.0.0.1', port: 0 },
    log: { info: () => undefined, error: () => undefined },
  });
});

afterAll(async () => {
  await dns.stop();
});

describe('DNS server under hostile input', () => {
  it(`answers or drops ${UDP_PACKETS} random and mutated UDP packets, keeps serving, memory bounded`, async () => {
    const r = rng(0x6b656d75);
    const client: Socket = createSocket('udp4');
    await new Promise<void>((res) => client.bind(0, '127.0.0.1', () => res()));
    const sentIds = new Set<number>();
    const problems: string[] = [];
    let received = 0;
    let decodable = 0;
    client.on('message', (m) => {
      received++;
      const p = replyProblem(m, sentIds);
      if (p && problems.length < 10) problems.push(p);
      try {
        decodeMessage(m);
        decodable++;
      } catch {
        // a bare FORMERR header for a packet whose question could not be read is fine as well
      }
    });
    const send = (b: Buffer): Promise<void> => new Promise((res) => client.send(b, dns.udpPort, '127.0.0.1', () => res()));
    const round = async (count: number): Promise<void> => {
      for (let sent = 0; sent < count; sent += UDP_BATCH) {
        const batch = Array.from({ length: UDP_BATCH }, (_, k) => {
          const id = (sent + k) & 0xffff;
          sentIds.add(id);
          return hostile(r, id);
        });
        await Promise.all(batch.map(send));
        await new Promise((res) => setTimeout(res, 1)); // let the server drain its socket buffer
      }
    };
    await round(5_000); // warm up: caches and label sets reach their working size
    await new Promise((res) => setTimeout(res, 100));
    const before = process.memoryUsage();
    await round(UDP_PACKETS);
    await new Promise((res) => setTimeout(res, 300));
    const after = process.memoryUsage();
    client.close();

    expect(problems).toEqual([]);
    // about a fifth of the packets deserve no answer (responses, runts); loopback drops a few more
    expect(received).toBeGreaterThan(UDP_PACKETS / 2);
    expect(decodable).toBeGreaterThan(received / 2);
    await stillAnswers(dns.udpPort);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(64 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(128 * 1024 * 1024);
  }, 60_000);

  it('answers or drops hostile TCP frames, split and partial frames and oversized lengths', async () => {
    const r = rng(0x74637066);
    const sentIds = new Set<number>();
    const oneConnection = (c: number): Promise<Buffer[]> =>
      new Promise((resolve, reject) => {
        const sock = connect({ host: '127.0.0.1', port: dns.tcpPort });
        const got: Buffer[] = [];
        let buf = Buffer.alloc(0);
        sock.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            got.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
            buf = buf.subarray(2 + buf.readUInt16BE(0));
          }
        });
        sock.on('error', reject);
        sock.on('close', () => resolve(got));
        sock.on('connect', () => {
          const frames = Array.from({ length: FRAMES_PER_CONNECTION }, (_, k) => {
            const id = (c * FRAMES_PER_CONNECTION + k) & 0xffff;
            sentIds.add(id);
            const p = hostile(r, id);
            const len = Buffer.alloc(2);
            len.writeUInt16BE(p.length);
            return Buffer.concat([len, p]);
          });
          const stream = Buffer.concat(frames);
          // cut the stream at random points so frames arrive split across writes
          let at = 0;
          while (at < stream.length) {
            const n = 1 + r(r(4) === 0 ? 3 : 400);
            sock.write(stream.subarray(at, at + n));
            at += n;
          }
          // the tail: nothing, a partial frame, or a length far beyond what follows
          const tail = [Buffer.alloc(0), Buffer.from([0x00]), Buffer.from([0x00, 40, 1, 2, 3]), Buffer.from([0xff, 0xff, 1, 2, 3, 4])][c % 4]!;
          sock.write(tail);
          setTimeout(() => sock.end(), 200);
        });
      });
    const all: Buffer[] = [];
    for (let c = 0; c < TCP_CONNECTIONS; c += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, k) => oneConnection(c + k)));
      for (const got of batch) all.push(...got);
    }
    expect(all.length).toBeGreaterThan((TCP_CONNECTIONS * FRAMES_PER_CONNECTION) / 2);
    expect(all.map((reply) => replyProblem(reply, sentIds)).filter(Boolean)).toEqual([]);
    await stillAnswers(dns.udpPort);
    const overTcp = await query(dns.tcpPort, 'web2.app.svc.cluster.local.', TYPE.A, { transport: 'tcp' });
    expect(overTcp.answer).toHaveLength(1);
  }, 30_000);
});
