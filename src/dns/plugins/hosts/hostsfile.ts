// The /etc/hosts format as CoreDNS's hosts plugin reads it: `IP name [name...]`, `#` comments,
// names lower-cased and made absolute, names outside the plugin's zones ignored, lines whose first
// field is not an IP skipped. The result maps names to addresses and (for PTR) addresses to names.

import { isIPv4 } from 'node:net';
import { canonicalIP } from '../../wire/ip.js';
import { fqdn, isSubdomain } from '../../wire/message.js';

export interface HostsMap {
  v4: Map<string, string[]>;
  v6: Map<string, string[]>;
  /** canonical address -> names, in file order (empty with no_reverse) */
  byAddress: Map<string, string[]>;
}

function emptyHostsMap(): HostsMap {
  return { v4: new Map(), v6: new Map(), byAddress: new Map() };
}

const push = (m: Map<string, string[]>, k: string, v: string): void => {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
};

export function parseHosts(text: string, origins: readonly string[], reverse: boolean): HostsMap {
  const out = emptyHostsMap();
  for (const raw of text.split('\n')) {
    const [first, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    // an IPv6 zone (fe80::1%eth0) names an interface, not part of the address
    const ip = first ? canonicalIP(first.replace(/%.*$/, '')) : undefined;
    if (!ip) continue;
    for (const n of names) {
      const name = fqdn(n.toLowerCase());
      if (!origins.some((z) => isSubdomain(name, z))) continue;
      push(isIPv4(ip) ? out.v4 : out.v6, name, ip);
      if (reverse) push(out.byAddress, ip, name);
    }
  }
  return out;
}

/** Entries of `b` after those of `a` (the file's before the inline ones, as CoreDNS looks them up). */
export function concatHosts(a: HostsMap, b: HostsMap): HostsMap {
  const merge = (x: Map<string, string[]>, y: Map<string, string[]>): Map<string, string[]> => {
    const m = new Map([...x].map(([k, v]) => [k, [...v]]));
    for (const [k, v] of y) for (const item of v) push(m, k, item);
    return m;
  };
  return { v4: merge(a.v4, b.v4), v6: merge(a.v6, b.v6), byAddress: merge(a.byAddress, b.byAddress) };
}
