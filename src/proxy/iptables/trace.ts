// A deliberately simple packet tracer over iptables rules, with the semantics of upstream's test
// helper (iptablesTracer in proxier_test.go): run nat PREROUTING, take the first DNAT as the new
// destination, then run the filter chains KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS
// and KUBE-PROXY-FIREWALL. Rules that look at history (affinity, marks, conntrack) never match,
// and a probabilistic jump that ends in a DNAT lets evaluation go on, so every endpoint a packet
// could reach is collected.

import { cidrContains, formatIP, parseCIDR, parseIP, splitHostPort } from '../../api/ip.js';
import { KUBE_EXTERNAL_SERVICES, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL, KUBE_SERVICES } from './builder.js';
import { ruleWords } from './dump.js';

export interface Packet {
  sourceIP: string;
  /** tcp, udp or sctp */
  protocol: string;
  destIP: string;
  destPort: number;
}

export interface TraceResult {
  /** DNAT destinations and verdicts (ACCEPT/DROP/REJECT) joined by ", "; "" when nothing applied. */
  output: string;
  /** The packet got the masquerade mark (KUBE-MARK-MASQ). */
  masq: boolean;
  /** Raw text of every rule that matched, in order. */
  matches: string[];
}

/** Read access to rules, e.g. a RulesetModel. */
export interface RuleSource {
  rules(table: string, chain: string): readonly string[] | undefined;
}

interface Match {
  negated: boolean;
  value: string;
}

interface ParsedRule {
  raw: string;
  source?: Match;
  destination?: Match;
  protocol?: Match;
  destPort?: Match;
  sourceType?: Match;
  destType?: Match;
  jump?: string;
  dnatTo?: string;
  probabilistic: boolean;
  /** --rcheck, --mark or --ctstate: depends on state the tracer does not model. */
  checksHistory: boolean;
}

const VALUE_OPTIONS: Record<string, keyof Pick<ParsedRule, 'source' | 'destination' | 'protocol' | 'destPort' | 'sourceType' | 'destType'>> = {
  '-s': 'source',
  '--source': 'source',
  '-d': 'destination',
  '--destination': 'destination',
  '-p': 'protocol',
  '--protocol': 'protocol',
  '--dport': 'destPort',
  '--destination-port': 'destPort',
  '--src-type': 'sourceType',
  '--dst-type': 'destType',
};

export function parseRule(raw: string): ParsedRule {
  const words = ruleWords(raw);
  const rule: ParsedRule = { raw, probabilistic: false, checksHistory: false };
  let negated = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const next = words[i + 1];
    if (word === '!') {
      negated = true;
      continue;
    }
    const field = VALUE_OPTIONS[word];
    if (field !== undefined && next !== undefined) {
      rule[field] = { negated, value: next };
      i++;
    } else if ((word === '-j' || word === '--jump') && next !== undefined) {
      rule.jump = next;
      i++;
    } else if (word === '--to-destination' && next !== undefined) {
      rule.dnatTo = next;
      i++;
    } else if (word === '--probability') {
      rule.probabilistic = true;
    } else if (word === '--rcheck' || word === '--mark' || word === '--ctstate') {
      rule.checksHistory = true;
    } else if ((word === '-A' || word === '-m' || word === '--comment') && next !== undefined) {
      i++; // chain name, module name, comment text: not matches
    }
    negated = false;
  }
  return rule;
}

function addressMatches(address: string, match: Match): boolean {
  const ip = parseIP(address);
  let hit = false;
  if (ip !== undefined) {
    if (match.value.includes('/')) {
      const cidr = parseCIDR(match.value);
      hit = cidr !== undefined && cidrContains(cidr, ip);
    } else {
      const other = parseIP(match.value);
      hit = other !== undefined && other.family === ip.family && other.value === ip.value;
    }
  }
  return hit !== match.negated;
}

function valueMatches(actual: string, match: Match): boolean {
  return (actual === match.value) !== match.negated;
}

class Tracer {
  readonly outputs: string[] = [];
  readonly matches: string[] = [];
  masq = false;
  private readonly parsed = new Map<string, ParsedRule>();

  constructor(
    private readonly source: RuleSource,
    private readonly localAddresses: ReadonlySet<string>,
  ) {}

  private isLocal(address: string): string {
    const ip = parseIP(address);
    return ip !== undefined && this.localAddresses.has(formatIP(ip)) ? 'LOCAL' : 'not-matched';
  }

  private ruleMatches(rule: ParsedRule, packet: Packet): boolean {
    if (rule.source && !addressMatches(packet.sourceIP, rule.source)) return false;
    if (rule.sourceType && !valueMatches(this.isLocal(packet.sourceIP), rule.sourceType)) return false;
    if (rule.protocol && !valueMatches(packet.protocol, rule.protocol)) return false;
    if (rule.destination && !addressMatches(packet.destIP, rule.destination)) return false;
    if (rule.destType && !valueMatches(this.isLocal(packet.destIP), rule.destType)) return false;
    if (rule.destPort && !valueMatches(String(packet.destPort), rule.destPort)) return false;
    return !rule.checksHistory;
  }

  /** Runs one chain; true when it reached a terminating verdict. */
  runChain(table: string, chain: string, packet: Packet, depth = 0): boolean {
    if (depth > 64) throw new Error(`trace: chain recursion too deep at ${table}/${chain}`);
    for (const raw of this.source.rules(table, chain) ?? []) {
      let rule = this.parsed.get(raw);
      if (rule === undefined) this.parsed.set(raw, (rule = parseRule(raw)));
      if (rule.jump === undefined || !this.ruleMatches(rule, packet)) continue;
      this.matches.push(raw);
      switch (rule.jump) {
        case KUBE_MARK_MASQ:
          this.masq = true;
          continue;
        case 'ACCEPT':
        case 'REJECT':
        case 'DROP':
          this.outputs.push(rule.jump);
          return true;
        case 'DNAT':
          this.outputs.push(rule.dnatTo ?? '');
          return true;
        default: {
          const terminated = this.runChain(table, rule.jump, packet, depth + 1);
          if (terminated && !rule.probabilistic) return true;
        }
      }
    }
    return false;
  }
}

/** Traces one packet; localAddresses are what `addrtype LOCAL` matches. */
export function tracePacket(source: RuleSource, packet: Packet, localAddresses: readonly string[]): TraceResult {
  const locals = new Set(localAddresses.map((a) => parseIP(a)).filter((ip) => ip !== undefined).map(formatIP));
  const tracer = new Tracer(source, locals);
  let current = packet;
  tracer.runChain('nat', 'PREROUTING', current);
  const firstDNAT = tracer.outputs.length > 0 ? splitHostPort(tracer.outputs[0]!) : undefined;
  if (firstDNAT !== undefined) current = { ...current, destIP: firstDNAT.host };
  for (const chain of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) {
    tracer.runChain('filter', chain, current);
  }
  return { output: tracer.outputs.join(', '), masq: tracer.masq, matches: tracer.matches };
}
