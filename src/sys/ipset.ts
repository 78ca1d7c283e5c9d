// ipsets inside a namespace with the ipset tool: the current sets read with one `ipset save`, the
// changes of a sync written with one `ipset restore` (ipsets are per network namespace, so nsenter
// keeps them off the host). -exist makes creating an existing set, adding a present member and
// deleting an absent one no-ops, so a restore replayed after a partial failure still succeeds.

import type { IpsetMembers, IpsetOp } from '../proxy/ipvs/state.js';
import { execIn, type Netns } from './netns.js';

const TIMEOUT_MS = 30_000;

/** Options upstream creates its sets with (pkg/util/ipset: default hashsize and maxelem, full port range). */
function createOptions(type: string, family: 'inet' | 'inet6'): string[] {
  return type.startsWith('bitmap:') ? ['range', '0-65535'] : ['family', family, 'hashsize', '1024', 'maxelem', '65536'];
}

export function ipsetRestoreText(ops: readonly IpsetOp[]): string {
  const lines = ops.map((o) =>
    o.op === 'create' ? ['create', o.set, o.type, ...createOptions(o.type, o.family), '-exist'].join(' ') : `${o.op} ${o.set} ${o.member} -exist`,
  );
  return lines.join('\n') + '\n';
}

/** Sets (and members) in `ipset save` output whose names start with prefix. */
export function parseIpsetSave(text: string, prefix = 'KUBE-'): Map<string, IpsetMembers> {
  const sets = new Map<string, IpsetMembers>();
  for (const line of text.split('\n')) {
    const [verb, name, value] = line.trim().split(/\s+/);
    if (name === undefined || !name.startsWith(prefix)) continue;
    if (verb === 'create' && value !== undefined) sets.set(name, { type: value, members: [] });
    else if (verb === 'add' && value !== undefined) sets.get(name)?.members.push(value);
  }
  return sets;
}

export async function listIpsets(ns: Netns | undefined): Promise<Map<string, IpsetMembers>> {
  const { stdout } = await execIn(ns, 'ipset', ['save'], { timeoutMs: TIMEOUT_MS });
  return parseIpsetSave(stdout);
}

export async function restoreIpsets(ns: Netns | undefined, ops: readonly IpsetOp[]): Promise<void> {
  if (ops.length === 0) return;
  await execIn(ns, 'ipset', ['restore'], { input: ipsetRestoreText(ops), timeoutMs: TIMEOUT_MS });
}
