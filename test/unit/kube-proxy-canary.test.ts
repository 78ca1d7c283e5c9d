// The iptables canary monitor (upstream utiliptables.Monitor) against an in-memory chain list:
// it creates KUBE-PROXY-CANARY in mangle, nat and filter, polls the mangle one, and asks for one
// full resync per flush; the canary never appears in what a sync writes.

import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IptablesTable } from '../../src/proxy/iptables/backend.js';
import { CANARY_CHAIN, CanaryMonitor, type CanaryBackend } from '../../src/proxy/iptables/canary.js';
import { IptablesProxier } from '../../src/proxy/iptables/proxier.js';
import { RulesetModel } from '../../src/proxy/iptables/ruleset.js';
import { casesRoot, clusterIPService, proxierConfig, serviceSlice, stepChain } from './kube-proxy-cases.js';

const INTERVAL_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class FakeChains implements CanaryBackend {
  readonly chains = new Set<string>();
  /** When set, chainExists fails the way a timed-out xtables lock does. */
  lockBusy = false;
  async ensureChain(table: IptablesTable, chain: string): Promise<void> {
    this.chains.add(`${table}/${chain}`);
  }
  async chainExists(table: IptablesTable, chain: string): Promise<boolean> {
    if (this.lockBusy) throw new Error('exit code 4: Another app is currently holding the xtables lock');
    return this.chains.has(`${table}/${chain}`);
  }
  flush(...tables: IptablesTable[]): void {
    for (const t of tables) this.chains.delete(`${t}/${CANARY_CHAIN}`);
  }
}

let monitor: CanaryMonitor | undefined;
afterEach(async () => {
  await monitor?.stop();
  monitor = undefined;
});

function start(kernel: CanaryBackend): { reloads: () => number } {
  let reloads = 0;
  monitor = new CanaryMonitor(kernel, () => void reloads++, { intervalMs: INTERVAL_MS });
  monitor.start();
  return { reloads: () => reloads };
}

async function until(check: () => boolean, ms = 2000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(5)) if (check()) return true;
  return check();
}

describe('iptables canary monitor', () => {
  it('creates the canary chain in mangle, nat and filter', async () => {
    const kernel = new FakeChains();
    start(kernel);
    expect(await until(() => kernel.chains.size === 3)).toBe(true);
    expect([...kernel.chains].sort()).toEqual(['filter/KUBE-PROXY-CANARY', 'mangle/KUBE-PROXY-CANARY', 'nat/KUBE-PROXY-CANARY']);
  });

  it('asks for one resync when the tables are flushed, then puts the canaries back', async () => {
    const kernel = new FakeChains();
    const { reloads } = start(kernel);
    await until(() => kernel.chains.size === 3);
    await sleep(5 * INTERVAL_MS);
    expect(reloads()).toBe(0);
    kernel.flush('mangle', 'nat', 'filter');
    expect(await until(() => reloads() === 1)).toBe(true);
    expect(await until(() => kernel.chains.size === 3)).toBe(true);
    await sleep(5 * INTERVAL_MS);
    expect(reloads()).toBe(1);
    kernel.flush('mangle', 'nat', 'filter');
    expect(await until(() => reloads() === 2)).toBe(true);
  });

  it('polls only the mangle canary, as upstream does', async () => {
    const kernel = new FakeChains();
    const { reloads } = start(kernel);
    await until(() => kernel.chains.size === 3);
    kernel.flush('nat', 'filter');
    await sleep(10 * INTERVAL_MS);
    expect(reloads()).toBe(0);
  });

  it('does not take a failed check (xtables lock busy) for a flush', async () => {
    const kernel = new FakeChains();
    const { reloads } = start(kernel);
    await until(() => kernel.chains.size === 3);
    kernel.lockBusy = true;
    await sleep(10 * INTERVAL_MS);
    expect(reloads()).toBe(0);
  });

  it('stops polling when stopped', async () => {
    const kernel = new FakeChains();
    const { reloads } = start(kernel);
    await until(() => kernel.chains.size === 3);
    await monitor!.stop();
    kernel.flush('mangle', 'nat', 'filter');
    await sleep(5 * INTERVAL_MS);
    expect(reloads()).toBe(0);
    expect(kernel.chains.size).toBe(0);
  });

  it('is not part of the rules a sync writes, and a reload makes the next sync full', async () => {
    const spec = stepChain(path.join(casesRoot, '01-iptables-overall-rules'))[0]!.spec;
    const kernel = new RulesetModel();
    const proxier = new IptablesProxier(proxierConfig(spec), kernel);
    proxier.onServiceAdd(clusterIPService('ns1', 'svc1', '172.30.0.41', 'p80', 80));
    proxier.onEndpointSliceAdd(serviceSlice('ns1', 'svc1', ['10.180.0.1'], 'p80', 80));
    const first = await proxier.sync();
    expect(first.fullSync).toBe(true);
    expect(first.restore).not.toContain(CANARY_CHAIN);
    expect((await proxier.sync()).fullSync).toBe(false);
    proxier.forceFullSync();
    const afterFlush = await proxier.sync();
    expect(afterFlush.fullSync).toBe(true);
    expect(afterFlush.restore).not.toContain(CANARY_CHAIN);
  });
});
