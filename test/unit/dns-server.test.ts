import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Packet } from 'dns2';
import { createSocket } from 'node:dgram';
import type { Namespace, Service } from '../../src/api/types.js';
import { exchangeUdp } from '../../src/dns/exchange.js';
import { StaticZoneSource } from '../../src/dns/kubernetes/source.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/main.js';
import { decodeMessage, encodeMessage, encodeWithin } from '../../src/dns/wire/codec.js';
import { CLASS_IN, emptyFlags, RCODE, TYPE, type Message } from '../../src/dns/wire/message.js';
import { query } from './dns-harness.js';

const objects = {
  namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } } satisfies Namespace],
  services: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'app' }, spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ port: 80 }] } } satisfies Service],
  endpointSlices: [],
  pods: [],
};

function raw(name: string, type: number, edns?: Message['edns']): Buffer {
  return encodeMessage({ id: 4242, flags: { ...emptyFlags(), rd: true }, rcode: 0, question: [{ name, type, class: CLASS_IN }], answer: [], authority: [], additional: [], ...(edns ? { edns } : {}) });
}

let dns: ClusterDns;
let silent: ReturnType<typeof createSocket>;
const errors: string[] = [];

beforeAll(async () => {
  // an upstream that never answers
  silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  dns = await startClusterDns({
    source: new StaticZoneSource(objects),
    corefile: `.:53 {\n  health 127.0.0.1:0\n  ready 127.0.0.1:0\n  prometheus 127.0.0.1:0\n  kubernetes cluster.local\n  forward . 127.0.0.1:${silent.address().port} {\n    max_fails 0\n  }\n}\n`,
    listen: { address: '127.0.0.1', port: 0 },
    log: { info: () => undefined, error: (l) => errors.push(l) },
  });
});

afterAll(async () => {
  await dns.stop();
  silent.close();
});

describe('DNS server', () => {
  it('echoes OPT with the client size, DO and only the allowed options; none without EDNS', async () => {
    const cookie = { code: 10, data: Buffer.from('0102030405060708', 'hex') };
    const ecs = { code: 8, data: Buffer.from('00012000', 'hex') };
    const out = decodeMessage(await exchangeUdp({ host: '127.0.0.1', port: dns.udpPort }, raw('web.app.svc.cluster.local.', TYPE.A, { udpSize: 1400, extRcode: 0, version: 0, do: true, options: [cookie, ecs] }), 2000));
    expect(out.id).toBe(4242);
    expect(out.flags).toMatchObject({ qr: true, aa: true, rd: true, ra: false });
    expect(out.edns).toEqual({ udpSize: 1400, extRcode: 0, version: 0, do: true, options: [cookie] });
    const plain = await query(dns.udpPort, 'web.app.svc.cluster.local.', TYPE.A, { transport: 'udp' });
    expect(plain.edns).toBeUndefined();
  });

  it('answers BADVERS to EDNS version 1', async () => {
    const out = decodeMessage(await exchangeUdp({ host: '127.0.0.1', port: dns.udpPort }, raw('web.app.svc.cluster.local.', TYPE.A, { udpSize: 1232, extRcode: 0, version: 1, do: false, options: [] }), 2000));
    expect(out.rcode).toBe(RCODE.BADVERS);
    expect(out.edns?.version).toBe(0);
  });

  it('keeps the spelling of the question in owners', async () => {
    const out = await query(dns.udpPort, 'WeB.aPp.svc.cluster.LOCAL.', TYPE.A, { transport: 'tcp' });
    expect(out.question[0]!.name).toBe('WeB.aPp.svc.cluster.LOCAL.');
    expect(out.answer.map((r) => r.name)).toEqual(['WeB.aPp.svc.cluster.LOCAL.']);
  });

  it('answers SERVFAIL and logs when no upstream answers, within the forward deadline', async () => {
    const started = Date.now();
    const out = await query(dns.udpPort, 'example.org.', TYPE.A, { transport: 'udp', udpSize: 1232, timeoutMs: 6000 });
    expect(out.rcode).toBe(RCODE.SERVFAIL);
    expect(Date.now() - started).toBeLessThan(5500);
    expect(errors.some((l) => l.includes('example.org. A') && l.includes('i/o timeout'))).toBe(true);
  }, 10_000);

  it('counts requests and responses under CoreDNS metric names', async () => {
    const metricsText = dns.metrics.text();
    expect(metricsText).toMatch(/coredns_dns_requests_total\{[^}]*proto="udp"[^}]*\} \d+/);
    expect(metricsText).toContain('coredns_dns_responses_total');
  });

  it('sends every reply of a burst from several clients back to the client and ID that asked', async () => {
    const clients = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<ReturnType<typeof createSocket>>((resolve) => {
            const s = createSocket('udp4');
            s.bind(0, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    const PER_CLIENT = 40;
    try {
      const got = clients.map((s) => {
        const ids: number[] = [];
        s.on('message', (m) => {
          const d = decodeMessage(m);
          // the name tells which client asked; the ID which of its queries
          ids.push(d.question[0]!.name === `web.app.svc.cluster.local.` && d.answer.length === 1 ? d.id : -1);
        });
        return ids;
      });
      const wanted = (c: number): number[] => Array.from({ length: PER_CLIENT }, (_, i) => c * 1000 + i);
      // interleaved, without waiting: most of them reach the server in one read batch
      for (let i = 0; i < PER_CLIENT; i++) {
        clients.forEach((s, c) => {
          const q = raw('web.app.svc.cluster.local.', TYPE.A);
          q.writeUInt16BE(c * 1000 + i, 0);
          s.send(q, dns.udpPort, '127.0.0.1');
        });
      }
      const until = Date.now() + 3000;
      while (got.some((ids) => ids.length < PER_CLIENT) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      got.forEach((ids, c) => expect([...ids].sort((a, b) => a - b)).toEqual(wanted(c)));
    } finally {
      clients.forEach((s) => s.close());
    }
  });

  it('counts a replayed answer like the first one, DO bit included', async () => {
    const requests = (): number => sumOf(dns.metrics.text(), /^coredns_dns_requests_total\{[^}]*zone="\."[^}]*type="AAAA"[^}]*\} (\d+)$/gm);
    const withDo = (): number => sumOf(dns.metrics.text(), /^coredns_dns_do_requests_total\{[^}]*zone="\."[^}]*\} (\d+)$/gm);
    const [r0, d0] = [requests(), withDo()];
    // AAAA of an IPv4-only Service: NODATA from the zone, a reply that is kept and replayed
    const q = raw('web.app.svc.cluster.local.', TYPE.AAAA, { udpSize: 1232, extRcode: 0, version: 0, do: true, options: [] });
    for (let i = 0; i < 3; i++) expect(decodeMessage(await exchangeUdp({ host: '127.0.0.1', port: dns.udpPort }, q, 2000)).rcode).toBe(RCODE.NOERROR);
    expect(requests() - r0).toBe(3);
    expect(withDo() - d0).toBe(3);
  });
});

function sumOf(text: string, series: RegExp): number {
  return [...text.matchAll(series)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('truncation (miekg Msg.Truncate semantics)', () => {
  // 40-byte name: 12 header + 44 question; each compressed A RR is 16 bytes
  const name = 'big-headless.e2e-dns.svc.cluster.local.';
  const many: Message = {
    id: 1, flags: { ...emptyFlags(), qr: true, aa: true }, rcode: 0, question: [{ name, type: TYPE.A, class: CLASS_IN }],
    answer: Array.from({ length: 100 }, (_, i) => ({ name, type: TYPE.A, class: CLASS_IN, ttl: 30, data: { kind: 'address' as const, ip: `10.0.0.${i}` } })),
    authority: [], additional: [],
  };

  it('sends a reply that fits uncompressed and untouched', () => {
    const small = { ...many, answer: many.answer.slice(0, 2) };
    expect(encodeWithin(small, 512)).toEqual(encodeMessage(small));
  });

  it('produces compressed messages that an independent parser (dns2) reads the same way', () => {
    const parsed = Packet.parse(encodeWithin(many, 512));
    expect(parsed.header.tc).toBe(1);
    expect(parsed.answers).toHaveLength(28);
    expect(parsed.answers.map((a) => (a as { address?: string }).address)).toEqual(many.answer.slice(0, 28).map((r) => (r.data as { ip: string }).ip));
    expect(new Set(parsed.answers.map((a) => a.name))).toEqual(new Set([name.slice(0, -1)]));
  });

  it('keeps whole compressed RRs that fit, sets TC and keeps the OPT record', () => {
    const out = decodeMessage(encodeWithin(many, 512));
    expect(out.flags.tc).toBe(true);
    expect(out.answer).toHaveLength(28);
    const withOpt = decodeMessage(encodeWithin({ ...many, edns: { udpSize: 1232, extRcode: 0, version: 0, do: false, options: [] } }, 1232));
    expect(withOpt.answer).toHaveLength(72);
    expect(withOpt.edns?.udpSize).toBe(1232);
  });
});
