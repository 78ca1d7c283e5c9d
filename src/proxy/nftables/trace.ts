// A deliberately simple packet tracer over kube-proxy's nftables table, with the semantics of
// upstream's test helper (nftablesTracer in helpers_test.go): run filter-prerouting-pre-dnat,
// nat-prerouting (taking the first DNAT target as the new destination), filter-forward and
// filter-input. Every branch of a numgen vmap is followed, so all reachable endpoints are
// collected; conntrack state is always "new" and "fib ... type local" means one of the node IPs.

import { cidrContains, isLoopback, parseCIDR, parseIP, splitHostPort } from '../../api/ip.js';
import type { Packet, TraceResult } from '../iptables/trace.js';
import { MARK_FOR_MASQUERADE } from './builder.js';
import type { NftTableModel } from './table.js';

type Flow = 'continue' | 'terminate' | 'return';

class Tracer {
  readonly outputs: string[] = [];
  readonly matches: string[] = [];
  masq = false;
  private readonly local: string[];
  private depth = 0;

  constructor(
    private readonly table: NftTableModel,
    readonly packet: Packet,
    localAddresses: readonly string[],
  ) {
    this.local = localAddresses.filter((a) => {
      const ip = parseIP(a);
      return ip !== undefined && !isLoopback(ip);
    });
  }

  /** True when the chain ended in a terminal verdict. */
  runChain(chain: string): boolean {
    if (++this.depth > 64) throw new Error(`nft trace: chain loop at ${chain}`);
    try {
      for (const rule of this.table.chainRules(chain) ?? []) {
        const flow = this.runRule(rule);
        if (flow === 'terminate') return true;
        if (flow === 'return') return false;
      }
      return false;
    } finally {
      this.depth--;
    }
  }

  private runRule(rule: string): Flow {
    const w = rule.replace(/ comment "[^"]*"$/, '').split(' ');
    const p = this.packet;
    for (let i = 0; i < w.length; ) {
      const word = w[i]!;
      if (word === 'ct' && w[i + 1] === 'state') {
        i += 3;
      } else if ((word === 'ip' || word === 'ip6') && (w[i + 1] === 'daddr' || w[i + 1] === 'saddr')) {
        const addr = w[i + 1] === 'daddr' ? p.destIP : p.sourceIP;
        if (w[i + 2] === '.') {
          // ip daddr . meta l4proto . th dport vmap @map
          return this.vmapLookup(rule, w[i + 9]!, `${addr} . ${p.protocol} . ${p.destPort}`);
        }
        i += 2;
        const negated = w[i] === '!=';
        if (negated) i++;
        const { values, next } = this.operand(w, i);
        i = next;
        if (values.some((v) => addressMatches(v, addr)) === negated) return 'continue';
      } else if (word === 'meta' && w[i + 1] === 'l4proto') {
        if (w[i + 2] === '.') return this.vmapLookup(rule, w[i + 6]!, `${p.protocol} . ${p.destPort}`);
        if (w[i + 2] !== p.protocol) return 'continue';
        i += 3;
      } else if (word === 'fib') {
        const addr = w[i + 1] === 'daddr' ? p.destIP : p.sourceIP;
        if (!this.local.some((a) => addressMatches(a, addr))) return 'continue';
        i += 4;
      } else if (word === 'update') {
        i = w.indexOf('}', i) + 1;
      } else if (word === 'numgen') {
        // numgen random mod N vmap { 0 : goto A , 1 : goto B }
        const entries = w.slice(i + 6, w.lastIndexOf('}')).join(' ').split(' , ').map((e) => e.split(' : ')[1]!);
        this.matches.push(rule);
        const flows = entries.map((verdict) => this.verdict(verdict));
        return flows.includes('terminate') ? 'terminate' : 'continue';
      } else if (word === 'mark' || word === 'masquerade') {
        return 'continue';
      } else {
        this.matches.push(rule);
        return this.verdict(w.slice(i).join(' '));
      }
    }
    return 'continue';
  }

  private operand(w: string[], i: number): { values: string[]; next: number } {
    if (w[i] === '{') {
      const end = w.indexOf('}', i);
      return { values: w.slice(i + 1, end).map((v) => v.replace(/,$/, '')), next: end + 1 };
    }
    if (w[i]!.startsWith('@')) {
      return { values: (this.table.elements(w[i]!.slice(1)) ?? []).map((e) => e.key), next: i + 1 };
    }
    return { values: [w[i]!], next: i + 1 };
  }

  private vmapLookup(rule: string, mapRef: string, key: string): Flow {
    const hit = this.table.elements(mapRef.slice(1))?.find((e) => e.key === key);
    if (hit?.value === undefined) return 'continue';
    this.matches.push(rule);
    return this.verdict(hit.value);
  }

  private verdict(text: string): Flow {
    const [word, target] = text.split(' ');
    switch (word) {
      case 'jump':
        if (target === MARK_FOR_MASQUERADE) {
          this.masq = true;
          return 'continue';
        }
        return this.runChain(target!) ? 'terminate' : 'continue';
      case 'goto':
        return this.runChain(target!) ? 'terminate' : 'return';
      case 'return':
        return 'return';
      case 'drop':
      case 'reject':
      case 'accept':
        this.outputs.push(word.toUpperCase());
        return 'terminate';
      case 'dnat':
        this.outputs.push(text.split(' ')[2]!);
        return 'terminate';
      default:
        throw new Error(`nft trace: unsupported statement "${text}"`);
    }
  }
}

function addressMatches(value: string, addr: string): boolean {
  const ip = parseIP(addr);
  if (ip === undefined) return false;
  if (value.includes('/')) {
    const cidr = parseCIDR(value);
    return cidr !== undefined && cidrContains(cidr, ip);
  }
  const other = parseIP(value);
  return other !== undefined && other.family === ip.family && other.value === ip.value;
}

export function traceNftPacket(table: NftTableModel, packet: Packet, localAddresses: readonly string[]): TraceResult {
  const tracer = new Tracer(table, packet, localAddresses);
  if (!tracer.runChain('filter-prerouting-pre-dnat')) {
    tracer.runChain('nat-prerouting');
    const dnat = tracer.outputs.find((o) => splitHostPort(o) !== undefined);
    const routed = dnat === undefined ? packet : { ...packet, destIP: splitHostPort(dnat)!.host };
    const afterNat = new Tracer(table, routed, localAddresses);
    if (!afterNat.runChain('filter-forward')) afterNat.runChain('filter-input');
    tracer.outputs.push(...afterNat.outputs);
    tracer.matches.push(...afterNat.matches);
    tracer.masq ||= afterNat.masq;
  }
  return { output: tracer.outputs.join(', '), masq: tracer.masq, matches: tracer.matches };
}
