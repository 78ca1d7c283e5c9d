// Runs every case of ../shared/conformance/dns/cases.yaml against the real server on 127.0.0.1,
// with the case's profile (Corefile + fixture), over the transport the case names, and compares
// by the rules of that folder's README.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Pod } from '../../src/api/types.js';
import { StaticZoneSource, type ZoneObjects } from '../../src/dns/kubernetes/source.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/main.js';
import { formatRR, RCODE, TYPE, typeFromName, type Message, type RR } from '../../src/dns/wire/message.js';
import { CONFORMANCE_DIR, loadFixture, parseRRLine, query, StubUpstream } from './dns-harness.js';

interface Expect {
  rcode: string;
  flags?: Record<string, boolean>;
  answer?: string[];
  authority?: string[];
  additional?: string[];
  answer_count?: number;
  answer_ordered?: boolean;
}

interface Case {
  name: string;
  profile: string;
  qname: string;
  qtype: string;
  client?: { namespace?: string; search?: boolean };
  query?: { transport?: 'udp' | 'tcp' | 'udp+tcp'; edns?: boolean; udp_size?: number };
  expect: Expect;
  ignore_ttl?: boolean;
  optional?: boolean;
  requires?: string[];
  note?: string;
}

interface Profile {
  name: string;
  fixture: string;
  corefile: string;
  kubernetes: { synced: boolean; local_ips: string[] };
  upstream?: { records?: string[]; set_tc_on_responses?: boolean };
  autopath?: boolean;
  stub_zones?: { zone: string; plugin: string; records?: string[]; same_as?: string }[];
  client?: { pod?: string; namespace?: string };
}

const cases = (parse(readFileSync(path.join(CONFORMANCE_DIR, 'cases.yaml'), 'utf8')) as { cases: Case[] }).cases;
const profiles = new Map((parse(readFileSync(path.join(CONFORMANCE_DIR, 'profiles.yaml'), 'utf8')) as { profiles: Profile[] }).profiles.map((p) => [p.name, p]));

// What the kubeadm profile's upstream (the node resolver) answers besides its records.
const KUBEADM_UPSTREAM_SOAS = ['example.com. 300 IN SOA ns.example.com. hostmaster.example.com. 1 7200 1800 86400 300', '. 300 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400'];

/** Directives this server does not have; profiles that use them cannot start. */
const UNSUPPORTED = ['transfer'];
const missingFeature = (p: Profile): string | undefined => UNSUPPORTED.find((d) => new RegExp(`^\\s*${d}\\b`, 'm').test(p.corefile));

interface Running {
  dns: ClusterDns;
  upstream?: StubUpstream;
}

const running = new Map<string, Promise<Running>>();
const zoneDir = mkdtempSync(path.join(tmpdir(), 'kemu-dns-zones-'));

/** The profile's static zone (file plugin) written to a temp zone file; its path. */
function writeStubZone(p: Profile): string | undefined {
  const stub = p.stub_zones?.[0];
  if (!stub) return undefined;
  const records = stub.records ?? profiles.get(stub.same_as ?? '')?.stub_zones?.[0]?.records ?? [];
  const file = path.join(zoneDir, `${p.name}.zone`);
  writeFileSync(file, `${records.join('\n')}\n`);
  return file;
}
let nextStubHost = 10;

/** The client pod is where the queries come from: 127.0.0.1 here (autopath maps source IP -> pod). */
function withClientOnLoopback(objects: ZoneObjects, podName: string): ZoneObjects {
  const pods = objects.pods.map((p): Pod => (p.metadata.name === podName ? { ...p, status: { ...p.status, podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } } : p));
  return { ...objects, pods };
}

async function start(p: Profile): Promise<Running> {
  let corefile = p.corefile
    .replace(/^(\s*)(health|ready)(\s*)(\{|$)/gm, '$1$2 127.0.0.1:0$3$4')
    .replace(/prometheus :9153/, 'prometheus 127.0.0.1:0');
  let upstream: StubUpstream | undefined;
  if (/<upstream-stub>|\/etc\/resolv\.conf/.test(corefile)) {
    const records = (p.upstream?.records ?? []).map(parseRRLine);
    if (p.name === 'kubeadm') records.push(...KUBEADM_UPSTREAM_SOAS.map(parseRRLine));
    upstream = new StubUpstream(`127.0.0.${nextStubHost++}`, records, p.upstream?.set_tc_on_responses ?? false);
    await upstream.start();
    corefile = corefile.replaceAll('<upstream-stub>', `${upstream.host}:${upstream.port}`).replace('/etc/resolv.conf', `${upstream.host}:${upstream.port}`);
  }
  const zoneFile = writeStubZone(p);
  if (zoneFile) corefile = corefile.replace('/etc/coredns/Zonefile', zoneFile);
  let objects = loadFixture(p.fixture);
  if (p.autopath && p.client?.pod) objects = withClientOnLoopback(objects, p.client.pod);
  const dns = await startClusterDns({
    source: new StaticZoneSource(objects, p.kubernetes.synced),
    corefile,
    listen: { address: '127.0.0.1', port: 0 },
    localIPs: p.kubernetes.local_ips,
    log: { info: () => undefined, error: () => undefined },
  });
  return { dns, ...(upstream ? { upstream } : {}) };
}

function server(p: Profile): Promise<Running> {
  let r = running.get(p.name);
  if (!r) {
    r = start(p);
    running.set(p.name, r);
  }
  return r;
}

afterAll(async () => {
  for (const r of running.values()) {
    const { dns, upstream } = await r;
    await dns.stop();
    await upstream?.stop();
  }
  rmSync(zoneDir, { recursive: true, force: true });
});

/** The names a stub resolver with ndots:5 and the pod's search list sends, in order. */
function searchWalk(c: Case): string[] {
  if (!c.client?.search || c.qname.endsWith('.') || !c.client.namespace) return [c.qname];
  const search = [`${c.client.namespace}.svc.cluster.local.`, 'svc.cluster.local.', 'cluster.local.'];
  const withSuffix = search.map((s) => `${c.qname}.${s}`);
  const dots = c.qname.split('.').length - 1;
  return dots >= 5 ? [`${c.qname}.`, ...withSuffix] : [...withSuffix, `${c.qname}.`];
}

async function ask(port: number, c: Case, transport: 'udp' | 'tcp'): Promise<Message> {
  const type = typeFromName(c.qtype)!;
  const udpSize = c.query?.edns === false ? undefined : (c.query?.udp_size ?? 1232);
  let last: Message | undefined;
  for (const name of searchWalk(c)) {
    last = await query(port, name, type, { transport, ...(udpSize !== undefined ? { udpSize } : {}) });
    if (last.rcode !== RCODE.NXDOMAIN) break;
  }
  return last!;
}

function normalize(rr: RR, ignoreTtl: boolean): string {
  const copy: RR = { ...rr, ttl: ignoreTtl ? 0 : rr.ttl };
  if (copy.data.kind === 'soa') copy.data = { ...copy.data, serial: 0 };
  return formatRR(copy);
}

const multiset = (lines: string[]): string[] => [...lines].sort();

/** Every CNAME comes before the records of the name it points to (upstream test.CNAMEOrder). */
function cnameOrderHolds(answer: RR[]): boolean {
  return answer.every((rr, i) => rr.type !== TYPE.CNAME || rr.data.kind !== 'name' || answer.slice(0, i).every((x) => x.name.toLowerCase() !== (rr.data as { target: string }).target.toLowerCase()));
}

function check(c: Case, m: Message): void {
  const e = c.expect;
  const ignoreTtl = c.ignore_ttl ?? false;
  expect(RCODE[e.rcode as keyof typeof RCODE], `rcode (got ${m.rcode})`).toBe(m.rcode);
  for (const [flag, want] of Object.entries(e.flags ?? {})) expect(m.flags[flag as keyof Message['flags']], `flag ${flag}`).toBe(want);
  if (e.answer_count !== undefined) {
    expect(m.answer.length).toBe(e.answer_count);
    return;
  }
  const got = (rrs: RR[]): string[] => rrs.map((r) => normalize(r, ignoreTtl));
  const want = (lines: string[] | undefined): string[] => (lines ?? []).map((l) => normalize(parseRRLine(l), ignoreTtl));
  if (e.answer_ordered) expect(got(m.answer)).toEqual(want(e.answer));
  else expect(multiset(got(m.answer))).toEqual(multiset(want(e.answer)));
  expect(cnameOrderHolds(m.answer), 'CNAME before its target').toBe(true);
  expect(multiset(got(m.authority))).toEqual(multiset(want(e.authority)));
  const additionalNotAsserted = e.additional === undefined && /additional section not asserted/.test(c.note ?? '');
  if (!additionalNotAsserted) expect(multiset(got(m.additional))).toEqual(multiset(want(e.additional)));
}

describe('DNS conformance (shared/conformance/dns/cases.yaml)', () => {
  it('has every case', () => {
    expect(cases.length).toBe(161);
  });

  for (const c of cases) {
    const p = profiles.get(c.profile)!;
    const missing = missingFeature(p);
    const needsMissing = missing !== undefined;
    const runner = needsMissing && c.optional ? it.skip : it;
    runner(c.name, async () => {
      if (needsMissing) throw new Error(`profile ${p.name} needs the '${missing}' plugin, which this server does not have`);
      const { dns } = await server(p);
      const transports = c.query?.transport === 'udp+tcp' ? (['udp', 'tcp'] as const) : ([c.query?.transport ?? 'udp'] as const);
      for (const t of transports) check(c, await ask(dns.udpPort, c, t));
    });
  }
});
