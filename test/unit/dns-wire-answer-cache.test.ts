// Reply bytes kept for replay: the fast query reader, the replay patches (ID, RD/CD, TTL aging,
// address shuffling) and the server's invalidation when the zone's objects change.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSlice, Namespace, Service } from '../../src/api/types.js';
import type { ZoneObjects, ZoneSource } from '../../src/dns/kubernetes/source.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/main.js';
import { replay, replyLayout, storable } from '../../src/dns/wire/answer-cache.js';
import { decodeMessage, encodeMessage } from '../../src/dns/wire/codec.js';
import { CLASS_IN, emptyFlags, RCODE, TYPE, type Message, type RR } from '../../src/dns/wire/message.js';
import { readSimpleQuery } from '../../src/dns/wire/simple-query.js';
import { parseRRLine, query, StubUpstream } from './dns-harness.js';

function queryMessage(name: string, type: number, init: Partial<Message> = {}): Message {
  return { id: 7, flags: { ...emptyFlags(), rd: true }, rcode: 0, question: [{ name, type, class: CLASS_IN }], answer: [], authority: [], additional: [], ...init };
}

const a = (name: string, ip: string, ttl = 30): RR => ({ name, type: TYPE.A, class: CLASS_IN, ttl, data: { kind: 'address', ip } });
const soa: RR = { name: 'cluster.local.', type: TYPE.SOA, class: CLASS_IN, ttl: 30, data: { kind: 'soa', mname: 'ns.dns.cluster.local.', rname: 'hostmaster.cluster.local.', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 } };

describe('readSimpleQuery', () => {
  it('keys a plain query by its exact question and EDNS size and DO bit', () => {
    const plain = readSimpleQuery(encodeMessage(queryMessage('web.app.svc.cluster.local.', TYPE.A)));
    const upper = readSimpleQuery(encodeMessage(queryMessage('WEB.app.svc.cluster.local.', TYPE.A)));
    const edns = readSimpleQuery(encodeMessage(queryMessage('web.app.svc.cluster.local.', TYPE.A, { edns: { udpSize: 1232, extRcode: 0, version: 0, do: false, options: [] } })));
    const withDo = readSimpleQuery(encodeMessage(queryMessage('web.app.svc.cluster.local.', TYPE.A, { edns: { udpSize: 1232, extRcode: 0, version: 0, do: true, options: [] } })));
    const edns4096 = readSimpleQuery(encodeMessage(queryMessage('web.app.svc.cluster.local.', TYPE.A, { edns: { udpSize: 4096, extRcode: 0, version: 0, do: false, options: [] } })));
    const keys = [plain, upper, edns, withDo, edns4096].map((q) => q?.key);
    expect(new Set(keys).size).toBe(5);
    expect(plain?.qtype).toBe(TYPE.A);
    expect(withDo?.do).toBe(true);
    expect(edns?.do).toBe(false);
    expect(plain?.do).toBe(false);
    // the same question with another ID and RD bit is the same key
    const again = readSimpleQuery(encodeMessage({ ...queryMessage('web.app.svc.cluster.local.', TYPE.A), id: 4242, flags: emptyFlags() }));
    expect(again?.key).toBe(plain?.key);
  });

  it('leaves every other shape to the full decoder', () => {
    const base = encodeMessage(queryMessage('web.', TYPE.A));
    const pointer = Buffer.concat([base.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    const response = Buffer.from(base);
    response[2] = response[2]! | 0x80;
    const notify = Buffer.from(base);
    notify[2] = (4 << 3) | 1;
    const cookie = encodeMessage(queryMessage('web.', TYPE.A, { edns: { udpSize: 1232, extRcode: 0, version: 0, do: false, options: [{ code: 10, data: Buffer.alloc(8, 1) }] } }));
    const version1 = encodeMessage(queryMessage('web.', TYPE.A, { edns: { udpSize: 1232, extRcode: 0, version: 1, do: false, options: [] } }));
    const chaos = encodeMessage({ ...queryMessage('web.', TYPE.TXT), question: [{ name: 'version.bind.', type: TYPE.TXT, class: 3 }] });
    const trailing = Buffer.concat([base, Buffer.from([0])]);
    for (const b of [pointer, response, notify, cookie, version1, chaos, trailing, base.subarray(0, 15)]) expect(readSimpleQuery(b)).toBeUndefined();
  });
});

describe('replay', () => {
  const reply = (m: Partial<Message>): Buffer => encodeMessage({ ...queryMessage('web.app.svc.cluster.local.', TYPE.A), flags: { ...emptyFlags(), qr: true, aa: true, rd: true }, ...m });

  it('takes the ID, RD and CD bits of the new query', () => {
    const e = storable(reply({ answer: [a('web.app.svc.cluster.local.', '10.96.0.5')] }), { aging: false, shuffle: false, now: 0, meta: undefined })!;
    const q = encodeMessage({ ...queryMessage('web.app.svc.cluster.local.', TYPE.A), id: 0xbeef, flags: { ...emptyFlags(), rd: false, cd: true } });
    const m = decodeMessage(replay(e, q, 0));
    expect(m.id).toBe(0xbeef);
    expect(m.flags).toMatchObject({ qr: true, aa: true, rd: false, cd: true });
    expect(m.answer.map((r) => r.data)).toEqual([{ kind: 'address', ip: '10.96.0.5' }]);
  });

  it('ages every TTL by the whole seconds since storing and expires at the smallest TTL', () => {
    const e = storable(reply({ rcode: RCODE.NXDOMAIN, authority: [{ ...soa, ttl: 12 }] }), { aging: true, shuffle: false, now: 1_000, meta: undefined })!;
    expect(e.expiresAt).toBe(1_000 + 12_000);
    const q = encodeMessage(queryMessage('web.app.svc.cluster.local.', TYPE.A));
    expect(decodeMessage(replay(e, q, 1_999)).authority[0]!.ttl).toBe(12);
    expect(decodeMessage(replay(e, q, 5_200)).authority[0]!.ttl).toBe(8);
    const fixed = storable(reply({ answer: [a('web.app.svc.cluster.local.', '10.96.0.5', 5)] }), { aging: false, shuffle: false, now: 1_000, meta: undefined })!;
    expect(fixed.expiresAt).toBe(Number.POSITIVE_INFINITY);
    expect(decodeMessage(replay(fixed, q, 100_000)).answer[0]!.ttl).toBe(5);
  });

  it('shuffles the address records behind the others and keeps the rest in place', () => {
    const cname: RR = { name: 'web.app.svc.cluster.local.', type: TYPE.CNAME, class: CLASS_IN, ttl: 30, data: { kind: 'name', target: 'db.app.svc.cluster.local.' } };
    const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
    const e = storable(reply({ answer: [cname, ...ips.map((ip) => a('db.app.svc.cluster.local.', ip))], additional: [a('x.cluster.local.', '10.9.9.9')] }), { aging: true, shuffle: true, now: 0, meta: undefined })!;
    const q = encodeMessage(queryMessage('web.app.svc.cluster.local.', TYPE.A));
    const orders = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const m = decodeMessage(replay(e, q, 2_500));
      expect(m.answer[0]!.type).toBe(TYPE.CNAME);
      const got = m.answer.slice(1).map((r) => (r.data.kind === 'address' ? r.data.ip : ''));
      expect([...got].sort()).toEqual(ips);
      expect(m.answer.slice(1).every((r) => r.ttl === 28)).toBe(true);
      expect(m.additional.map((r) => r.name)).toEqual(['x.cluster.local.']);
      orders.add(got.join(','));
    }
    expect(orders.size).toBe(6);
  });

  it('refuses to shuffle compressed records and finds every TTL of a compressed reply', () => {
    const m: Message = { ...queryMessage('web.app.svc.cluster.local.', TYPE.A), flags: { ...emptyFlags(), qr: true }, answer: ['10.0.0.1', '10.0.0.2'].map((ip) => a('web.app.svc.cluster.local.', ip)) };
    const compressed = encodeMessage(m, true);
    expect(replyLayout(compressed)).toMatchObject({ compressed: true, ttls: [30, 30] });
    expect(storable(compressed, { aging: false, shuffle: true, now: 0, meta: undefined })).toBeUndefined();
    expect(storable(compressed, { aging: false, shuffle: false, now: 0, meta: undefined })).toBeDefined();
  });
});

/** A zone source whose objects a test can replace, announcing each change as informers do. */
class MutableSource implements ZoneSource {
  private readonly listeners = new Set<() => void>();
  private changedAt = 1_700_000_000;

  constructor(private objects: ZoneObjects) {}

  set(objects: ZoneObjects): void {
    this.objects = objects;
    this.changedAt++;
    for (const l of this.listeners) l();
  }
  snapshot(): ZoneObjects {
    return this.objects;
  }
  hasSynced(): boolean {
    return true;
  }
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  lastChange(): number {
    return this.changedAt;
  }
}

const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } };
const service = (name: string, ip: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'app' }, spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80 }] } });
const headless: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'app' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432 }] } };
const slice: EndpointSlice = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'db-1', namespace: 'app', labels: { 'kubernetes.io/service-name': 'db' } },
  addressType: 'IPv4',
  endpoints: ['10.244.1.2', '10.244.1.3', '10.244.2.2', '10.244.2.3'].map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  ports: [{ port: 5432, protocol: 'TCP' }],
};

describe('DNS server replaying stored replies', () => {
  const source = new MutableSource({ namespaces: [ns], services: [service('web', '10.96.0.20'), headless], endpointSlices: [slice], pods: [] });
  let dns: ClusterDns;

  beforeAll(async () => {
    dns = await startClusterDns({
      source,
      corefile: '.:53 {\n  kubernetes cluster.local\n  loadbalance\n}\n',
      listen: { address: '127.0.0.1', port: 0 },
      log: { info: () => undefined, error: () => undefined },
    });
  });
  afterAll(async () => {
    await dns.stop();
  });

  const ipsOf = (m: Message): string[] => m.answer.map((r) => (r.data.kind === 'address' ? r.data.ip : r.type.toString()));

  it('answers from the current objects right after they change', async () => {
    const name = 'web.app.svc.cluster.local.';
    expect(ipsOf(await query(dns.udpPort, name, TYPE.A, { transport: 'udp' }))).toEqual(['10.96.0.20']);
    expect(ipsOf(await query(dns.udpPort, name, TYPE.A, { transport: 'udp' }))).toEqual(['10.96.0.20']);
    expect((await query(dns.udpPort, 'api.app.svc.cluster.local.', TYPE.A, { transport: 'udp' })).rcode).toBe(RCODE.NXDOMAIN);

    source.set({ namespaces: [ns], services: [service('web', '10.96.0.21'), service('api', '10.96.0.30'), headless], endpointSlices: [slice], pods: [] });
    expect(ipsOf(await query(dns.udpPort, name, TYPE.A, { transport: 'udp' }))).toEqual(['10.96.0.21']);
    expect(ipsOf(await query(dns.udpPort, 'api.app.svc.cluster.local.', TYPE.A, { transport: 'udp' }))).toEqual(['10.96.0.30']);
  });

  it('answers a repeated query with its own ID and keeps loadbalance shuffling', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const m = await query(dns.tcpPort, 'db.app.svc.cluster.local.', TYPE.A, { transport: 'tcp' });
      expect([...ipsOf(m)].sort()).toEqual(['10.244.1.2', '10.244.1.3', '10.244.2.2', '10.244.2.3']);
      orders.add(ipsOf(m).join(','));
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('keeps the spelling of each query in its reply', async () => {
    await query(dns.udpPort, 'web.app.svc.cluster.local.', TYPE.A, { transport: 'udp' });
    const m = await query(dns.udpPort, 'Web.App.svc.Cluster.Local.', TYPE.A, { transport: 'udp' });
    expect(m.question[0]!.name).toBe('Web.App.svc.Cluster.Local.');
    expect(m.answer[0]!.name).toBe('Web.App.svc.Cluster.Local.');
  });
});

describe('DNS server with forwarded data in a reply', () => {
  const upstream = new StubUpstream('127.0.0.1', [parseRRLine('target.example.org. 60 IN A 192.0.2.7')], false);
  const external: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'app' }, spec: { type: 'ExternalName', externalName: 'target.example.org' } };
  let dns: ClusterDns;

  beforeAll(async () => {
    await upstream.start();
    dns = await startClusterDns({
      source: new MutableSource({ namespaces: [ns], services: [external], endpointSlices: [], pods: [] }),
      corefile: `.:53 {\n  kubernetes cluster.local\n  forward . 127.0.0.1:${upstream.port}\n}\n`,
      listen: { address: '127.0.0.1', port: 0 },
      log: { info: () => undefined, error: () => undefined },
    });
  });
  afterAll(async () => {
    await dns.stop();
    await upstream.stop();
  });

  it('asks upstream again for every ExternalName query instead of replaying its records', async () => {
    for (let i = 0; i < 3; i++) {
      const m = await query(dns.udpPort, 'ext.app.svc.cluster.local.', TYPE.A, { transport: 'udp' });
      expect(m.answer.map((r) => r.type)).toEqual([TYPE.CNAME, TYPE.A]);
    }
    expect(upstream.queries.filter((q) => q.toLowerCase() === 'target.example.org.')).toHaveLength(3);
  });
});
