// flannel's iptables rules (pure): masquerade for traffic leaving the pod network (FLANNEL-POSTRTG in
// nat) and forward-accept for the pod network (FLANNEL-FWD in filter), in the exact form iptables-save
// prints them, so the current state can be compared line by line. The restore text declares only
// flannel's two chains (so --noflush rebuilds those and nothing else) and appends the jump from the
// built-in chain only when it is missing — appending it every time would stack duplicates.

export interface TableRules {
  table: 'nat' | 'filter';
  chain: string;
  /** The rule in the built-in chain that jumps to `chain`. */
  jump: string;
  rules: string[];
}

const MASQ = '-m comment --comment "flanneld masq"';
const FWD = '-m comment --comment "flanneld forward"';

export function flannelRules(network: string, podSubnet: string): TableRules[] {
  const post = 'FLANNEL-POSTRTG';
  const fwd = 'FLANNEL-FWD';
  return [
    {
      table: 'nat',
      chain: post,
      jump: `-A POSTROUTING ${MASQ} -j ${post}`,
      rules: [
        // marked by kube-proxy for its own masquerade
        `-A ${post} -m mark --mark 0x4000/0x4000 ${MASQ} -j RETURN`,
        // pod to pod keeps its source
        `-A ${post} -s ${podSubnet} -d ${network} ${MASQ} -j RETURN`,
        `-A ${post} -s ${network} -d ${podSubnet} ${MASQ} -j RETURN`,
        // from outside to our pods
        `-A ${post} ! -s ${network} -d ${podSubnet} ${MASQ} -j RETURN`,
        // pods to the outside, except multicast
        `-A ${post} -s ${network} ! -d 224.0.0.0/4 ${MASQ} -j MASQUERADE --random-fully`,
        // the node itself to remote pods
        `-A ${post} ! -s ${network} -d ${network} ${MASQ} -j MASQUERADE --random-fully`,
      ],
    },
    {
      table: 'filter',
      chain: fwd,
      jump: `-A FORWARD ${FWD} -j ${fwd}`,
      rules: [`-A ${fwd} -s ${network} ${FWD} -j ACCEPT`, `-A ${fwd} -d ${network} ${FWD} -j ACCEPT`],
    },
  ];
}

/** iptables-save text split into its tables' rule lines (`-A …`), and declared chains. */
function parseSave(save: string): Map<string, { chains: Set<string>; rules: string[] }> {
  const tables = new Map<string, { chains: Set<string>; rules: string[] }>();
  let current: { chains: Set<string>; rules: string[] } | undefined;
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      current = { chains: new Set(), rules: [] };
      tables.set(line.slice(1), current);
    } else if (current && line.startsWith(':')) {
      current.chains.add(line.slice(1).split(' ')[0]);
    } else if (current && line.startsWith('-A ')) {
      current.rules.push(line);
    }
  }
  return tables;
}

/**
 * The iptables-restore --noflush text that brings the rules to `want`, or undefined when the current
 * state (iptables-save of all tables) already matches: chains hold exactly these rules, jumps present.
 */
export function rulesRestoreText(want: readonly TableRules[], currentSave: string): string | undefined {
  const current = parseSave(currentSave);
  const sections: string[] = [];
  let changed = false;
  for (const t of want) {
    const have = current.get(t.table);
    const haveRules = have?.rules.filter((r) => r.startsWith(`-A ${t.chain} `)) ?? [];
    const jumpPresent = have?.rules.includes(t.jump) ?? false;
    const chainMatches = (have?.chains.has(t.chain) ?? false) && haveRules.join('\n') === t.rules.join('\n');
    if (!chainMatches || !jumpPresent) changed = true;
    sections.push([`*${t.table}`, `:${t.chain} - [0:0]`, ...(jumpPresent ? [] : [t.jump]), ...t.rules, 'COMMIT'].join('\n'));
  }
  return changed ? `${sections.join('\n')}\n` : undefined;
}
