// Live Corefile reloads as the coredns program drives them: a change notice wakes the reload
// plugin at once, queries keep being answered across the swap, a bad Corefile is logged with its
// line while the last good one keeps serving, and without `reload` nothing is reloaded.

import { afterEach, describe, expect, it } from 'vitest';
import { StaticZoneSource } from '../../src/dns/kubernetes/source.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/main.js';
import { formatRR, TYPE } from '../../src/dns/wire/message.js';
import { query } from './dns-harness.js';

const source = new StaticZoneSource({ namespaces: [], services: [], endpointSlices: [], pods: [] });
const corefile = (ip: string, reload = 'reload'): string => `.:53 {\n    ${reload}\n    hosts {\n        ${ip} a.test\n    }\n}\n`;

let dns: ClusterDns | undefined;
afterEach(async () => {
  await dns?.stop();
  dns = undefined;
});

/** A server whose Corefile lives in `text`; `edit` changes it and sends the change notice. */
async function serverWith(initial: string) {
  let text = initial;
  const listeners = new Set<() => void>();
  const log: string[] = [];
  dns = await startClusterDns({
    source,
    corefile: text,
    listen: { address: '127.0.0.1', port: 0 },
    log: { info: (l) => log.push(l), error: (l) => log.push(l) },
    readCorefile: async () => text,
    watchCorefile: (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  });
  const port = dns.udpPort;
  return {
    log,
    edit: (next: string) => {
      text = next;
      listeners.forEach((l) => l());
    },
    answer: async () => (await query(port, 'a.test.', TYPE.A, { transport: 'udp', timeoutMs: 1000 })).answer.map(formatRR),
  };
}

async function eventually<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 2000): Promise<T> {
  const until = Date.now() + ms;
  let v = await f();
  while (!ok(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    v = await f();
  }
  return v;
}

describe('Corefile reload', () => {
  it('applies a changed Corefile right after the change notice, answering every query meanwhile', async () => {
    const s = await serverWith(corefile('10.0.0.1'));
    expect(await s.answer()).toEqual(['a.test. 3600 IN A 10.0.0.1']);
    const during = Array.from({ length: 50 }, (_, i) => new Promise((r) => setTimeout(r, i)).then(() => s.answer()));
    s.edit(corefile('10.0.0.2'));
    const seen = await Promise.all(during);
    expect(seen.every((a) => a.length === 1)).toBe(true);
    expect(await eventually(s.answer, (a) => a[0] === 'a.test. 3600 IN A 10.0.0.2', 1000)).toEqual(['a.test. 3600 IN A 10.0.0.2']);
    expect(s.log.some((l) => l.startsWith('[INFO] plugin/reload: Running configuration SHA512 = '))).toBe(true);
  });

  it('logs a bad Corefile with its line and keeps serving the last good one', async () => {
    const s = await serverWith(corefile('10.0.0.1'));
    s.edit('.:53 {\n    reload\n    nosuchplugin\n}\n');
    const logged = await eventually(async () => s.log.join('\n'), (l) => l.includes('reload failed'));
    expect(logged).toContain("[ERROR] Corefile changed but reload failed: Corefile:3 - Error during parsing: Unknown directive 'nosuchplugin'");
    expect(await s.answer()).toEqual(['a.test. 3600 IN A 10.0.0.1']);
    // a later good edit still applies
    s.edit(corefile('10.0.0.3'));
    expect(await eventually(s.answer, (a) => a[0]?.endsWith('10.0.0.3') ?? false)).toEqual(['a.test. 3600 IN A 10.0.0.3']);
  });

  it('does not reload a Corefile without the reload plugin', async () => {
    const s = await serverWith(corefile('10.0.0.1', 'errors'));
    s.edit(corefile('10.0.0.9', 'errors'));
    await new Promise((r) => setTimeout(r, 200));
    expect(await s.answer()).toEqual(['a.test. 3600 IN A 10.0.0.1']);
  });
});
