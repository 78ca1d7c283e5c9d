// autopath [ZONES...] @kubernetes|RESOLV-CONF: server-side search path. When a query already
// carries the first element of the client's search path, try the base name with every element
// and answer with the first that is not NXDOMAIN, with a CNAME from the name asked to the name
// found; if all are NXDOMAIN, answer as for the first try.

import { readFileSync } from 'node:fs';
import { argError, type Directive } from '../../corefile/parse.js';
import { CLASS_IN, fqdn, isSubdomain, RCODE, TYPE, type RR } from '../../wire/message.js';
import type { DnsRequest, Next, Plugin, Reply, SetupContext } from '../../plugin.js';
import type { KubernetesPlugin } from '../kubernetes/handler.js';
import { normalizeZone } from '../kubernetes/setup.js';

/** Prepends `original CNAME <owner>` unless the first answer already is the original name. */
function cnamer(answer: RR[], original: string): RR[] {
  const first = answer.find((a) => a.name.toLowerCase() !== original.toLowerCase());
  if (!first) return answer;
  const cname: RR = { name: original, type: TYPE.CNAME, class: CLASS_IN, ttl: first.ttl, data: { kind: 'name', target: first.name } };
  return [cname, ...answer];
}

function searchOfResolvConf(path: string): string[] {
  const line = readFileSync(path, 'utf8').split('\n').reverse().find((l) => /^\s*search\s/.test(l));
  return line ? line.trim().split(/\s+/).slice(1).map(fqdn) : [];
}

export function setupAutopath(d: Directive, ctx: SetupContext): Plugin {
  const source = d.args[d.args.length - 1];
  if (!source) throw argError(d, 'autopath needs @kubernetes or a resolv.conf path');
  const zones = d.args.length > 1 ? d.args.slice(0, -1).map((a) => normalizeZone(d, a)) : ctx.zones;
  const fixedSearch = source.startsWith('@') ? undefined : [...searchOfResolvConf(source), ''];
  if (source.startsWith('@') && source !== '@kubernetes') throw argError(d, `unknown plugin for autopath: ${source.slice(1)}`);

  const searchFor = (req: DnsRequest): string[] => {
    if (fixedSearch) return fixedSearch;
    const k = ctx.plugin('kubernetes') as KubernetesPlugin | undefined;
    if (!k) return [];
    const kz = k.current();
    const zone = kz.matchZone(fqdn(req.question.name));
    const ns = k.podNamespace(req.remoteAddress);
    if (zone === undefined || ns === undefined) return [];
    const z = zone.toLowerCase();
    const join = (p: string): string => (z === '.' ? `${p}.` : `${p}.${z}`);
    return [join(`${ns}.svc`), join('svc'), z, ''];
  };

  return {
    name: 'autopath',
    async serve(req: DnsRequest, next: Next): Promise<Reply> {
      const qname = fqdn(req.question.name);
      if (!zones.some((z) => isSubdomain(qname, z))) return next(req);
      const search = searchFor(req);
      const first = search[0];
      if (!first || !isSubdomain(qname, first)) return next(req);
      const base = qname.slice(0, qname.length - first.length - 1);
      let firstReply: Reply | undefined;
      for (const s of search) {
        const name = s === '' ? `${base}.` : `${base}.${s}`;
        const r = await next({ ...req, question: { ...req.question, name } });
        firstReply ??= r;
        if (r.rcode === RCODE.SERVFAIL || r.rcode === RCODE.REFUSED || r.rcode === RCODE.NXDOMAIN) continue;
        ctx.env.metrics.inc('coredns_autopath_success_total', 'Counter of requests that did autopath.', { server: 'dns://:53' });
        return { ...r, answer: cnamer(r.answer, req.question.name) };
      }
      return firstReply!;
    },
  };
}

