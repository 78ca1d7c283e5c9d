// The ordering normalisation kube-proxy's own tests apply to restore text before comparing it
// (upstream sortIPTablesRules): tables by name; chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-*
// alphabetically, then the rest alphabetically; the rules of the dispatch chains stably sorted by
// the Service named in their comment. Rule text itself is never touched.

import { parseDump, ruleWords, serializeDump, type DumpChain, type DumpTable } from './dump.js';

const LAST_RULE_MARKER = 'must be the last rule';

function ruleComment(rule: string): string | undefined {
  const words = ruleWords(rule);
  const at = words.indexOf('--comment');
  return at >= 0 && at + 1 < words.length ? words[at + 1] : undefined;
}

/** "ns/name" from a comment such as "ns/name:port cluster IP". */
function commentServiceName(comment: string): string {
  return comment.split(/[ :]/, 1)[0]!;
}

type Less = (a: string, b: string) => boolean;

const byServiceName: Less = (a, b) => {
  const ca = ruleComment(a);
  const cb = ruleComment(b);
  if (ca === undefined || cb === undefined) return false;
  return commentServiceName(ca) < commentServiceName(cb);
};

const byServiceNameNodePortsLast: Less = (a, b) => {
  if (ruleComment(a)?.includes(LAST_RULE_MARKER)) return false;
  if (ruleComment(b)?.includes(LAST_RULE_MARKER)) return true;
  return byServiceName(a, b);
};

function stableSort(rules: string[], less: Less): string[] {
  // Array.prototype.sort is stable; rules that are "equal" keep their order.
  return [...rules].sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
}

function chainRank(name: string): [number, string] {
  if (name === 'KUBE-NODEPORTS') return [0, ''];
  if (name === 'KUBE-SERVICES') return [1, ''];
  return name.startsWith('KUBE-') ? [2, name] : [3, name];
}

function compareChains(a: DumpChain, b: DumpChain): number {
  const [ra, na] = chainRank(a.name);
  const [rb, nb] = chainRank(b.name);
  return ra !== rb ? ra - rb : na < nb ? -1 : na > nb ? 1 : 0;
}

function sortTable(table: DumpTable): DumpTable {
  const chains = [...table.chains].sort(compareChains).map((chain) => {
    if (chain.name === 'KUBE-NODEPORTS' || (chain.name === 'KUBE-SERVICES' && table.name === 'filter')) {
      return { ...chain, rules: stableSort(chain.rules, byServiceName) };
    }
    if (chain.name === 'KUBE-SERVICES' && table.name === 'nat') {
      return { ...chain, rules: stableSort(chain.rules, byServiceNameNodePortsLast) };
    }
    return chain;
  });
  return { ...table, chains };
}

/** Canonical form of restore text; two rulesets are equivalent iff their normal forms are equal. */
export function normalizeIptables(text: string): string {
  const tables = parseDump(text).map(sortTable);
  tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return serializeDump(tables);
}
