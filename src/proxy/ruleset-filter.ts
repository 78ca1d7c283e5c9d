// One Service's part of a node's kube-proxy ruleset, cut out of the text the kernel tools print
// (`kemu rules --service NS/NAME`): iptables-save, `nft list table ip kube-proxy`, `ipvsadm -Ln`.
// Pure text in, text out; what belongs to a Service is found the way a student would find it —
// by the Service's name in comments and chain names, or by its addresses in IPVS.

export interface ServiceRef {
  namespace: string;
  name: string;
}

/** Per-Service iptables chains; KUBE-MARK-MASQ and the other shared chains are never included. */
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** kube-proxy comments name a Service port as "ns/name:port" (or "ns/name" when the port has no name). */
function namesServiceRegExp(svc: ServiceRef): RegExp {
  return new RegExp(`(^|[\\s"])${escapeRegExp(`${svc.namespace}/${svc.name}`)}(:|[\\s"]|$)`);
}

interface SaveRule {
  chain: string;
  target: string | undefined;
  line: string;
}

function parseRule(line: string): SaveRule {
  const words = line.split(/\s+/);
  const jump = words.findIndex((w) => w === '-j' || w === '-g');
  return { chain: words[1] ?? '', target: jump >= 0 ? words[jump + 1] : undefined, line };
}

/**
 * iptables-save text reduced to one Service: its KUBE-SVC/SVL/EXT/FW/SEP chains (declarations and
 * rules) and, in the shared chains (KUBE-SERVICES, KUBE-NODEPORTS, ...), the rules whose comment
 * names it. Tables with nothing of the Service are left out.
 */
export function filterIptablesSave(text: string, svc: ServiceRef): string {
  const names = namesServiceRegExp(svc);
  const out: string[] = [];
  let table: { header: string; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = { header: line, lines: [] };
    else if (line === 'COMMIT' && table) {
      const kept = filterTable(table.lines, names);
      if (kept.length > 0) out.push(table.header, ...kept, 'COMMIT');
      table = undefined;
    } else if (table) table.lines.push(line);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function filterTable(lines: string[], names: RegExp): string[] {
  const rules = lines.filter((l) => l.startsWith('-A ')).map(parseRule);
  const naming = rules.filter((r) => names.test(r.line));
  // The Service's chains: those its named rules live in or jump to, then everything they reach.
  const chains = new Set<string>();
  const pending = naming.flatMap((r) => [r.chain, r.target ?? '']).filter((c) => SERVICE_CHAIN.test(c));
  while (pending.length > 0) {
    const chain = pending.pop()!;
    if (chains.has(chain)) continue;
    chains.add(chain);
    for (const r of rules) if (r.chain === chain && r.target !== undefined && SERVICE_CHAIN.test(r.target)) pending.push(r.target);
  }
  const kept: string[] = [];
  for (const line of lines) {
    if (line.startsWith(':') && chains.has(line.slice(1).split(/\s+/)[0] ?? '')) kept.push(line);
  }
  for (const r of rules) if (chains.has(r.chain) || names.test(r.line)) kept.push(r.line);
  return kept;
}

interface NftBlock {
  kind: string;
  name: string;
  lines: string[];
}

/** The top-level blocks of `nft list table` output (sets, maps, chains), each with its lines. */
function nftBlocks(text: string): { header: string[]; blocks: NftBlock[] } {
  const header: string[] = [];
  const blocks: NftBlock[] = [];
  let current: NftBlock | undefined;
  for (const line of text.split('\n')) {
    const open = /^\t(set|map|chain|flowtable|counter|quota) (\S+) \{$/.exec(line);
    if (open) {
      current = { kind: open[1]!, name: open[2]!, lines: [line] };
      blocks.push(current);
    } else if (current) {
      current.lines.push(line);
      if (line === '\t}') current = undefined;
    } else if (line.startsWith('table ') || (line.startsWith('\t') && blocks.length === 0 && line.trim() !== '')) header.push(line);
  }
  return { header, blocks };
}

/** The elements of a set or map block, and the block without them (to put the kept ones back in). */
function splitElements(block: NftBlock): { before: string[]; elements: string[]; after: string[] } {
  const start = block.lines.findIndex((l) => /^\t\telements = \{/.test(l));
  if (start < 0) return { before: block.lines, elements: [], after: [] };
  let end = start;
  while (end < block.lines.length - 1 && !block.lines[end]!.trimEnd().endsWith('}')) end++;
  const body = block.lines
    .slice(start, end + 1)
    .join(' ')
    .replace(/^\s*elements = \{/, '')
    .replace(/\}\s*$/, '');
  return {
    before: block.lines.slice(0, start),
    elements: body.split(',').map((e) => e.trim()).filter(Boolean),
    after: block.lines.slice(end + 1),
  };
}

/**
 * `nft list table ip kube-proxy` reduced to one Service: its chains (service-, external-, endpoint-,
 * firewall-) and affinity sets, which carry "ns/name/" in their names, and the elements of the
 * maps whose verdict or comment names it; plain sets (cluster-ips) keep only the Service's addresses.
 */
export function filterNftTable(text: string, svc: ServiceRef): string {
  const inName = `-${svc.namespace}/${svc.name}/`;
  const names = namesServiceRegExp(svc);
  const { header, blocks } = nftBlocks(text);
  const own = (name: string): boolean => name.includes(inName);
  const keptMaps: string[][] = [];
  const addresses = new Set<string>();
  for (const block of blocks) {
    if (block.kind !== 'map' || own(block.name)) continue;
    const parts = splitElements(block);
    const elements = parts.elements.filter((e) => own(e) || names.test(e));
    for (const e of elements) addresses.add(e.split(/\s+/)[0]!);
    keptMaps.push(elements.length === 0 ? [] : [...parts.before, `\t\telements = { ${elements.join(',\n\t\t\t     ')} }`, ...parts.after]);
  }
  const out = [...header];
  let mapIndex = 0;
  for (const block of blocks) {
    let lines: string[] = [];
    if (own(block.name)) lines = block.lines;
    else if (block.kind === 'map') lines = keptMaps[mapIndex++]!;
    else if (block.kind === 'set') {
      const parts = splitElements(block);
      const elements = parts.elements.filter((e) => addresses.has(e));
      if (elements.length > 0) lines = [...parts.before, `\t\telements = { ${elements.join(', ')} }`, ...parts.after];
    }
    if (lines.length > 0) out.push(...(out.length > header.length ? [''] : []), ...lines);
  }
  return out.length === header.length ? '' : `${out.join('\n')}\n}\n`;
}

/** Where a Service can be reached in IPVS: virtual addresses and ports, and NodePorts on any address. */
export interface ServiceAddresses {
  ips: string[];
  ports: { protocol: string; port: number; nodePort?: number }[];
}

/**
 * `ipvsadm -Ln` reduced to the virtual servers of one Service (its ClusterIP, external and
 * load-balancer IPs on its ports, and its NodePorts on every address), with their real servers.
 */
export function filterIpvsadm(text: string, svc: ServiceAddresses): string {
  const vips = new Set<string>();
  const nodePorts = new Set<string>();
  for (const p of svc.ports) {
    for (const ip of svc.ips) vips.add(`${p.protocol.toUpperCase()} ${ip}:${p.port}`);
    if (p.nodePort !== undefined) nodePorts.add(`${p.protocol.toUpperCase()} ${p.nodePort}`);
  }
  const out: string[] = [];
  let keep = true; // the header lines before the first virtual server
  for (const line of text.split('\n')) {
    const vs = /^(TCP|UDP|SCTP)\s+(\S+):(\d+)\s/.exec(line);
    if (vs) keep = vips.has(`${vs[1]} ${vs[2]}:${vs[3]}`) || nodePorts.has(`${vs[1]} ${vs[3]}`);
    else if (!line.startsWith(' ') && line !== '' && !/^(Prot|IP Virtual)/.test(line)) keep = false;
    if (keep && line !== '') out.push(line);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
