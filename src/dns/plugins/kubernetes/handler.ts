// The kubernetes plugin's ServeDNS (handler.go): the pure zone answers, plus the I/O around it:
// ExternalName targets outside the zone go through the server's own chain, NXDOMAIN may fall
// through, and names that would not exist answer SERVFAIL until the source has synced.

import { buildClusterIndex } from '../../kubernetes/cluster-index.js';
import type { ZoneSource } from '../../kubernetes/source.js';
import { KubernetesZone } from '../../kubernetes/zone.js';
import { fqdn, isSubdomain, RCODE } from '../../wire/message.js';
import { reply, type DnsRequest, type Next, type Plugin, type Reply, type SetupContext } from '../../plugin.js';
import type { Directive } from '../../corefile/parse.js';
import { parseKubernetes, type KubernetesConfig } from './setup.js';

const MAX_LOOKUP_DEPTH = 8;

export class KubernetesPlugin implements Plugin {
  readonly name = 'kubernetes';
  private zone: KubernetesZone | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    readonly cfg: KubernetesConfig,
    private readonly source: ZoneSource,
    private readonly lookup: (req: DnsRequest) => Promise<Reply>,
  ) {
    this.unsubscribe = source.onChange(() => {
      this.zone = undefined;
    });
  }

  /** The current zone, rebuilt lazily after the source changed. */
  current(): KubernetesZone {
    if (!this.zone) {
      const objects = this.source.snapshot();
      const index = buildClusterIndex(this.cfg.noEndpoints ? { ...objects, endpointSlices: [] } : objects, this.cfg);
      this.zone = new KubernetesZone(this.cfg, index, this.source.lastChange());
    }
    return this.zone;
  }

  ready(): boolean {
    return this.source.hasSynced();
  }

  async stop(): Promise<void> {
    this.unsubscribe();
  }

  /** Namespace of the pod with this IP (autopath), when pods are verified. */
  podNamespace(ip: string): string | undefined {
    if (this.cfg.pods !== 'verified') return undefined;
    return this.current().podNamespaces(ip)[0];
  }

  async serve(req: DnsRequest, next: Next): Promise<Reply> {
    const qname = fqdn(req.question.name);
    const kz = this.current();
    const zone = kz.matchZone(qname);
    if (zone === undefined) return next(req);
    const res = kz.resolve({ qname, qtype: req.question.type, zone });
    if (res.kind === 'refused') return reply(this.name, RCODE.REFUSED);
    if (res.kind === 'name-error') {
      if (this.cfg.fallthrough?.some((z) => isSubdomain(qname, z))) return next(req);
      const rcode = this.source.hasSynced() ? RCODE.NXDOMAIN : RCODE.SERVFAIL;
      return reply(this.name, rcode, { aa: true, authority: [kz.soa(zone)] });
    }
    const answer = [...res.answer];
    let tc = false;
    if (res.external && req.depth < MAX_LOOKUP_DEPTH) {
      const up = await this.lookup({ ...req, question: { ...req.question, name: res.external.target }, depth: req.depth + 1 });
      if (up.rcode !== RCODE.SERVFAIL && up.rcode !== RCODE.REFUSED) {
        answer.push(res.external.cname, ...up.answer);
        tc = up.tc;
      }
    }
    if (answer.length === 0) return reply(this.name, RCODE.NOERROR, { aa: true, tc, authority: [kz.soa(zone)] });
    return reply(this.name, RCODE.NOERROR, { aa: true, tc, answer, additional: res.additional });
  }
}

export function setupKubernetes(d: Directive, ctx: SetupContext): Plugin {
  const cfg = parseKubernetes(d, ctx.zones, ctx.env.localIPs);
  if (!ctx.env.zoneSource) throw new Error(`Corefile:${d.line} - kubernetes: no object source given to the server`);
  return new KubernetesPlugin(cfg, ctx.env.zoneSource, ctx.lookup);
}
