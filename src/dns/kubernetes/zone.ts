// The kubernetes zone as CoreDNS's kubernetes plugin answers it (handler.go, kubernetes.go,
// reverse.go, ns.go and plugin/backend_lookup.go), as a pure function of a ClusterIndex and the
// plugin options. The only thing it cannot do itself is resolve an ExternalName target outside
// its zones; it hands that back as `external` for the caller to look up through the server.

import { CLASS_IN, TYPE, isSubdomain, type RR } from '../wire/message.js';
import { addressFromReverse, canonicalIP, isReverseName } from '../wire/ip.js';
import { serviceKey, type ClusterIndex, type PortInfo, type ServiceInfo } from './cluster-index.js';
import { matches, parseRequest, type RecordRequest } from './request.js';

export const DNS_SCHEMA_VERSION = '1.1.0';
const DNS_VERSION_TTL = 28800;

export type PodMode = 'disabled' | 'insecure' | 'verified';

export interface KubernetesOptions {
  /** absolute, lower case; the first forward zone is the primary one (PTR targets) */
  zones: string[];
  /** exposed namespaces; empty = all */
  namespaces: string[];
  pods: PodMode;
  ttl: number;
  endpointPodNames: boolean;
  ignoreEmptyService: boolean;
  /** the IPs this server answers on: NS records point at the Services they are endpoints of */
  localIPs: string[];
}

/** One answerable item, as CoreDNS's msg.Service: an address or a name, with the owner's domain. */
interface Entry {
  host: string;
  port: number;
  ttl: number;
  /** the domain this entry is known as (SRV/NS targets, glue owners) */
  domain: string;
  text?: string;
}

/** The name does not exist (CoreDNS errNoItems / errInvalidRequest / errNsNotExposed). */
const NAME_ERROR = Symbol('name error');
type Lookup = Entry[] | typeof NAME_ERROR;

export interface Query {
  /** as sent, absolute */
  qname: string;
  qtype: number;
  /** the matched zone, spelled as in qname */
  zone: string;
}

export type Resolution =
  | { kind: 'refused' }
  | { kind: 'name-error' }
  | {
      kind: 'records';
      answer: RR[];
      additional: RR[];
      /** an ExternalName target outside the zones: look it up, append CNAME + its answer */
      external?: { cname: RR; target: string };
    };

const isIP = (s: string): boolean => canonicalIP(s) !== undefined;
const isV4 = (s: string): boolean => isIP(s) && !s.includes(':');
const fqdnOf = (s: string): string => (s.endsWith('.') ? s : `${s}.`);
const MAX_CNAME_CHAIN = 7;

function rr(name: string, type: number, ttl: number, data: RR['data']): RR {
  return { name, type, class: CLASS_IN, ttl, data };
}

export class KubernetesZone {
  constructor(
    readonly opts: KubernetesOptions,
    private readonly index: ClusterIndex,
    private readonly serial: number,
  ) {}

  /** The zone of `qname` (longest match), spelled as in qname, or undefined. */
  matchZone(qname: string): string | undefined {
    let best: string | undefined;
    for (const z of this.opts.zones) if (isSubdomain(qname, z) && (best === undefined || z.length > best.length)) best = z;
    if (best === undefined) return undefined;
    return best === '.' ? '.' : qname.slice(qname.length - best.length);
  }

  soa(zone: string): RR {
    const ttl = Math.min(this.opts.ttl, 300);
    const join = (p: string): string => (zone === '.' ? `${p}.` : `${p}.${zone}`);
    return rr(zone, TYPE.SOA, ttl, {
      kind: 'soa', mname: join('ns.dns'), rname: join('hostmaster'), serial: this.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: this.opts.ttl,
    });
  }

  resolve(q: Query): Resolution {
    const name = q.qname.toLowerCase();
    const atApex = name === q.zone.toLowerCase();
    switch (q.qtype) {
      case TYPE.A:
      case TYPE.AAAA:
        return this.address(q, []);
      case TYPE.TXT:
        return this.txt(q);
      case TYPE.CNAME:
        return this.cname(q);
      case TYPE.PTR:
        return this.ptr(q);
      case TYPE.MX:
        return this.existence(this.services(q));
      case TYPE.SRV:
        return this.srv(q);
      case TYPE.SOA:
        return { kind: 'records', answer: atApex ? [this.soa(q.zone)] : [], additional: [] };
      case TYPE.AXFR:
      case TYPE.IXFR:
        return { kind: 'refused' };
      case TYPE.NS:
        // below the apex NS is like any other type
        return atApex ? this.ns(q) : this.nodataOrNameError(q);
      default:
        return this.nodataOrNameError(q);
    }
  }

  /** A hidden A lookup tells NODATA from NXDOMAIN for types the zone never has. */
  private nodataOrNameError(q: Query): Resolution {
    const r = this.address({ ...q, qtype: TYPE.A }, []);
    return r.kind === 'name-error' ? r : { kind: 'records', answer: [], additional: [] };
  }

  private existence(l: Lookup): Resolution {
    return l === NAME_ERROR ? { kind: 'name-error' } : { kind: 'records', answer: [], additional: [] };
  }

  /** Namespaces of the pods that have this IP (pods verified, autopath). */
  podNamespaces(ip: string): string[] {
    return this.index.podsByIP.get(canonicalIP(ip) ?? ip) ?? [];
  }

  // ---- the backend (kubernetes.go) ----------------------------------------------------------

  private exposed(ns: string): boolean {
    return (this.opts.namespaces.length === 0 || this.opts.namespaces.includes(ns)) && this.index.namespaces.has(ns);
  }

  private zoneDomain(zone: string, ...labels: string[]): string {
    return zone === '.' ? `${labels.join('.')}.` : `${labels.join('.')}.${zone}`;
  }

  /** Services(): the entries for a name, with the special cases for TXT, NS and ns.dns. */
  private services(q: Query): Lookup {
    const name = q.qname.toLowerCase();
    const zoneLower = q.zone.toLowerCase();
    if (q.qtype === TYPE.TXT) {
      if (name === this.zoneDomain(zoneLower, 'dns-version')) {
        return [{ host: '', port: 0, ttl: DNS_VERSION_TTL, domain: q.qname, text: DNS_SCHEMA_VERSION }];
      }
      const other = this.records(q);
      return other !== NAME_ERROR && other.length > 0 ? [] : NAME_ERROR;
    }
    if (q.qtype === TYPE.NS) return this.nsAddresses(q.zone);
    if (name === this.zoneDomain(zoneLower, 'ns', 'dns')) {
      const want = q.qtype === TYPE.AAAA ? (ip: string) => !isV4(ip) : (ip: string) => isV4(ip);
      return q.qtype === TYPE.A || q.qtype === TYPE.AAAA ? this.nsAddresses(q.zone).filter((e) => want(e.host)) : [];
    }
    const found = this.records(q);
    if (q.qtype !== TYPE.SRV || found === NAME_ERROR) return found;
    return found.filter((e) => isIP(e.host)); // SRV for ExternalName is not implemented upstream
  }

  private records(q: Query): Lookup {
    const r = parseRequest(q.qname.toLowerCase(), q.zone.toLowerCase());
    if (r === undefined) return NAME_ERROR;
    if (r.podOrSvc === '') return [];
    if (isReverseName(q.qname)) return NAME_ERROR;
    if (!this.exposed(r.namespace)) return NAME_ERROR;
    return r.podOrSvc === 'pod' ? this.findPods(r, q.zone) : this.findServices(r, q.zone);
  }

  private findPods(r: RecordRequest, zone: string): Lookup {
    if (this.opts.pods === 'disabled') return NAME_ERROR;
    if (r.service === '') return [];
    const label = r.service;
    const text = (label.match(/-/g)?.length ?? 0) === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
    const ip = canonicalIP(text);
    const domain = this.zoneDomain(zone, label, r.namespace, 'pod');
    if (ip === undefined) return NAME_ERROR;
    if (this.opts.pods === 'insecure') return [{ host: ip, port: 0, ttl: this.opts.ttl, domain }];
    const owners = this.index.podsByIP.get(ip) ?? [];
    return owners.includes(r.namespace) ? [{ host: ip, port: 0, ttl: this.opts.ttl, domain }] : NAME_ERROR;
  }

  private findServices(r: RecordRequest, zone: string): Lookup {
    if (r.service === '') return [];
    const svc = this.index.services.get(serviceKey(r.namespace, r.service));
    if (!svc) return NAME_ERROR;
    const slices = this.index.slices.get(serviceKey(svc.namespace, svc.name)) ?? [];
    if (this.opts.ignoreEmptyService && svc.kind === 'ClusterIP' && slices.every((s) => s.addresses.length === 0)) return NAME_ERROR;
    const svcDomain = this.zoneDomain(zone, svc.name, svc.namespace, 'svc');
    const portMatches = (p: PortInfo): boolean => matches(r.port, p.name) && matches(r.protocol, p.protocol);
    const out: Entry[] = [];
    if (svc.kind === 'ExternalName') {
      if (r.endpoint !== '' || r.port !== '' || r.protocol !== '' || isIP(svc.externalName) || svc.externalName === '') return NAME_ERROR;
      return [{ host: svc.externalName, port: 0, ttl: this.opts.ttl, domain: svcDomain }];
    }
    if (svc.kind === 'Headless' || r.endpoint !== '') {
      for (const s of slices) {
        for (const a of s.addresses) {
          if (r.endpoint !== '' && !matches(r.endpoint, a.label)) continue;
          for (const p of s.ports) {
            if (!portMatches(p)) continue;
            out.push({ host: a.ip, port: p.port, ttl: this.opts.ttl, domain: `${a.label}.${svcDomain}` });
          }
        }
      }
      return out.length > 0 ? out : NAME_ERROR;
    }
    let anyPort = false;
    for (const p of svc.ports) {
      if (!portMatches(p)) continue;
      anyPort = true;
      for (const ip of svc.clusterIPs) out.push({ host: ip, port: p.port, ttl: this.opts.ttl, domain: svcDomain });
    }
    return anyPort ? out : NAME_ERROR;
  }

  /** nsAddrs(): the Services this server is an endpoint of, else ns.dns.<zone> with the local IPs. */
  private nsAddresses(zone: string): Entry[] {
    const out: Entry[] = [];
    for (const local of this.opts.localIPs) {
      for (const slice of this.index.slicesByIP.get(canonicalIP(local) ?? local) ?? []) {
        const svc = this.index.services.get(serviceKey(slice.namespace, slice.service));
        if (!svc) continue;
        const svcDomain = this.zoneDomain(zone, svc.name, svc.namespace, 'svc');
        if (svc.kind === 'Headless') {
          for (const a of slice.addresses) out.push({ host: a.ip, port: 0, ttl: this.opts.ttl, domain: `${a.label}.${svcDomain}` });
        } else {
          for (const ip of svc.clusterIPs) out.push({ host: ip, port: 0, ttl: this.opts.ttl, domain: svcDomain });
        }
      }
    }
    if (out.length > 0) return out;
    return this.opts.localIPs.map((ip) => ({ host: canonicalIP(ip) ?? ip, port: 0, ttl: this.opts.ttl, domain: this.zoneDomain(zone, 'ns', 'dns') }));
  }

  // ---- record builders (backend_lookup.go) ----------------------------------------------------

  private address(q: Query, previous: RR[]): Resolution {
    const atApex = q.qname.toLowerCase() === q.zone.toLowerCase();
    const entries = atApex ? [] : this.services(q);
    if (entries === NAME_ERROR) return { kind: 'name-error' };
    const answer: RR[] = [];
    const seen = new Set<string>();
    let external: { cname: RR; target: string } | undefined;
    const wantV4 = q.qtype === TYPE.A;
    for (const e of entries) {
      if (!isIP(e.host)) {
        const target = fqdnOf(e.host);
        if (isSubdomain(q.qname, target)) continue; // CNAME loop
        const cname = rr(q.qname, TYPE.CNAME, e.ttl, { kind: 'name', target });
        if (previous.length > MAX_CNAME_CHAIN) continue;
        if (previous.some((p) => p.name.toLowerCase() === cname.name.toLowerCase() && p.data.kind === 'name' && p.data.target.toLowerCase() === target.toLowerCase())) continue;
        if (isSubdomain(target, q.zone)) {
          const next = this.address({ ...q, qname: target }, [...previous, cname]);
          if (next.kind === 'records' && (next.answer.length > 0 || next.external)) {
            answer.push(cname, ...next.answer);
            external ??= next.external;
          }
          continue;
        }
        external ??= { cname, target };
        continue;
      }
      if (isV4(e.host) !== wantV4 || seen.has(e.host)) continue;
      seen.add(e.host);
      answer.push(rr(q.qname, q.qtype, e.ttl, { kind: 'address', ip: e.host }));
    }
    return { kind: 'records', answer, additional: [], ...(external ? { external } : {}) };
  }

  private txt(q: Query): Resolution {
    const entries = this.services(q);
    if (entries === NAME_ERROR) return { kind: 'name-error' };
    const answer = entries.filter((e) => e.text !== undefined).map((e) => rr(q.qname, TYPE.TXT, e.ttl, { kind: 'txt', texts: [e.text!] }));
    return { kind: 'records', answer, additional: [] };
  }

  private cname(q: Query): Resolution {
    const entries = this.services(q);
    if (entries === NAME_ERROR) return { kind: 'name-error' };
    const first = entries[0];
    const answer = first && !isIP(first.host) ? [rr(q.qname, TYPE.CNAME, first.ttl, { kind: 'name', target: fqdnOf(first.host) })] : [];
    return { kind: 'records', answer, additional: [] };
  }

  private srv(q: Query): Resolution {
    const entries = this.services(q);
    if (entries === NAME_ERROR) return { kind: 'name-error' };
    // weight = 100 / entries, counted before duplicates are dropped (all priorities are 0)
    const weight = Math.max(1, Math.floor(100 / Math.max(1, entries.length)));
    const answer: RR[] = [];
    const additional: RR[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      if (e.port === -1) continue;
      const srvKey = `${e.domain}|${e.port}`;
      if (!seen.has(srvKey)) {
        seen.add(srvKey);
        answer.push(rr(q.qname, TYPE.SRV, e.ttl, { kind: 'srv', priority: 0, weight, port: e.port, target: e.domain }));
      }
      const glueKey = `${e.domain}|${e.host}`;
      if (!seen.has(glueKey)) {
        seen.add(glueKey);
        additional.push(rr(e.domain, isV4(e.host) ? TYPE.A : TYPE.AAAA, e.ttl, { kind: 'address', ip: e.host }));
      }
    }
    return { kind: 'records', answer, additional };
  }

  private ns(q: Query): Resolution {
    const entries = this.nsAddresses(q.zone);
    const answer: RR[] = [];
    const additional: RR[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      additional.push(rr(e.domain, isV4(e.host) ? TYPE.A : TYPE.AAAA, e.ttl, { kind: 'address', ip: e.host }));
      if (seen.has(e.domain)) continue;
      seen.add(e.domain);
      answer.push(rr(q.qname, TYPE.NS, e.ttl, { kind: 'name', target: e.domain }));
    }
    return { kind: 'records', answer, additional };
  }

  private ptr(q: Query): Resolution {
    const ip = addressFromReverse(q.qname);
    if (ip === undefined) return this.existence(this.records(q));
    const targets = this.reverseTargets(ip);
    if (targets.length === 0) return { kind: 'name-error' };
    const answer = [...new Set(targets)].map((t) => rr(q.qname, TYPE.PTR, this.opts.ttl, { kind: 'name', target: t }));
    return { kind: 'records', answer, additional: [] };
  }

  private primaryZone(): string {
    return this.opts.zones.find((z) => !isReverseName(z)) ?? this.opts.zones[0] ?? '.';
  }

  /** serviceRecordForIP(): a ClusterIP wins (first match); otherwise every endpoint with that IP. */
  private reverseTargets(ip: string): string[] {
    const filtered = this.opts.namespaces.length > 0;
    const zone = this.primaryZone();
    const svc = (this.index.servicesByClusterIP.get(ip) ?? []).find((s: ServiceInfo) => !filtered || this.exposed(s.namespace));
    if (svc) return [this.zoneDomain(zone, svc.name, svc.namespace, 'svc')];
    const out: string[] = [];
    for (const slice of this.index.slicesByIP.get(ip) ?? []) {
      if (filtered && !this.exposed(slice.namespace)) continue;
      for (const a of slice.addresses) if (a.ip === ip) out.push(this.zoneDomain(zone, a.label, slice.service, slice.namespace, 'svc'));
    }
    return out;
  }
}
