// The hosts plugin against a running server: inline entries and a hosts file (re-read when it
// changes), PTR from the same entries, NODATA vs SERVFAIL vs fallthrough, ttl, and setup errors.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticZoneSource } from '../../src/dns/kubernetes/source.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/main.js';
import { formatRR, RCODE, TYPE } from '../../src/dns/wire/message.js';
import { query, StubUpstream } from './dns-harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kemu-dns-hosts-'));
const hostsFile = path.join(dir, 'hosts');
const source = new StaticZoneSource({ namespaces: [], services: [], endpointSlices: [], pods: [] });
const quiet = { info: () => undefined, error: () => undefined };
let strict: ClusterDns;
let lenient: ClusterDns;
const upstream = new StubUpstream('127.0.0.1', [], false);

function start(corefile: string): Promise<ClusterDns> {
  return startClusterDns({ source, corefile, listen: { address: '127.0.0.1', port: 0 }, log: quiet });
}

beforeAll(async () => {
  writeFileSync(hostsFile, '# a comment\n192.0.2.7 db.example.test db # trailing comment\nnot-an-ip ignored.example.test\n2001:db8::7 db.example.test\n192.0.2.8 outside.other.test\n');
  await upstream.start();
  strict = await start(`.:53 {
    hosts ${hostsFile} example.test {
        10.1.2.3 inline.example.test
        192.0.2.9 db.example.test
        ttl 60
        reload 100ms
    }
}
`);
  lenient = await start(`.:53 {
    hosts ${hostsFile} example.test {
        10.9.9.9 own.example.test
        no_reverse
        fallthrough
    }
    forward . 127.0.0.1:${upstream.port}
}
`);
});

afterAll(async () => {
  await strict.stop();
  await lenient.stop();
  await upstream.stop();
  rmSync(dir, { recursive: true, force: true });
});

const answers = async (dns: ClusterDns, name: string, type: number) => {
  const m = await query(dns.udpPort, name, type, { transport: 'udp' });
  return { rcode: m.rcode, aa: m.flags.aa, rrs: m.answer.map(formatRR) };
};

describe('hosts plugin', () => {
  it('answers A from the file first, then the inline entries, with the ttl and the query spelling', async () => {
    expect(await answers(strict, 'DB.Example.Test.', TYPE.A)).toEqual({
      rcode: RCODE.NOERROR,
      aa: true,
      rrs: ['DB.Example.Test. 60 IN A 192.0.2.7', 'DB.Example.Test. 60 IN A 192.0.2.9'],
    });
    expect((await answers(strict, 'db.example.test.', TYPE.AAAA)).rrs).toEqual(['db.example.test. 60 IN AAAA 2001:db8::7']);
  });

  it('answers NODATA for a name with only the other family, SERVFAIL for a missing name', async () => {
    expect(await answers(strict, 'inline.example.test.', TYPE.AAAA)).toEqual({ rcode: RCODE.NOERROR, aa: true, rrs: [] });
    expect(await answers(strict, 'inline.example.test.', TYPE.MX)).toEqual({ rcode: RCODE.NOERROR, aa: true, rrs: [] });
    expect((await answers(strict, 'missing.example.test.', TYPE.A)).rcode).toBe(RCODE.SERVFAIL);
  });

  it('leaves out names outside its zones and lines that do not start with an IP', async () => {
    expect((await answers(strict, 'outside.other.test.', TYPE.A)).rrs).toEqual([]);
    expect((await answers(strict, 'ignored.example.test.', TYPE.A)).rcode).toBe(RCODE.SERVFAIL);
    // a bare name is made absolute: `db` is the name db., outside example.test
    expect((await answers(strict, 'db.', TYPE.A)).rrs).toEqual([]);
  });

  it('answers PTR for the addresses of its entries, also outside its zones', async () => {
    expect((await answers(strict, '7.2.0.192.in-addr.arpa.', TYPE.PTR)).rrs).toEqual(['7.2.0.192.in-addr.arpa. 60 IN PTR db.example.test.']);
    expect((await answers(strict, '3.2.1.10.in-addr.arpa.', TYPE.PTR)).rrs).toEqual(['3.2.1.10.in-addr.arpa. 60 IN PTR inline.example.test.']);
  });

  it('re-reads the file when it changes', async () => {
    writeFileSync(hostsFile, '192.0.2.50 new.example.test\n');
    let rrs: string[] = [];
    for (let i = 0; i < 40 && rrs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rrs = (await answers(strict, 'new.example.test.', TYPE.A)).rrs;
    }
    expect(rrs).toEqual(['new.example.test. 60 IN A 192.0.2.50']);
    // the inline entries stay
    expect((await answers(strict, 'inline.example.test.', TYPE.A)).rrs).toEqual(['inline.example.test. 60 IN A 10.1.2.3']);
  });

  it('with fallthrough passes misses to the next plugin; no_reverse leaves PTR to it too', async () => {
    const before = upstream.queries.length;
    expect((await answers(lenient, 'missing.example.test.', TYPE.A)).rcode).toBe(RCODE.NXDOMAIN);
    expect((await answers(lenient, '50.2.0.192.in-addr.arpa.', TYPE.PTR)).rcode).toBe(RCODE.NXDOMAIN);
    expect((await answers(lenient, '9.9.9.10.in-addr.arpa.', TYPE.PTR)).rcode).toBe(RCODE.NXDOMAIN);
    expect(upstream.queries.slice(before)).toEqual(['missing.example.test.', '50.2.0.192.in-addr.arpa.', '9.9.9.10.in-addr.arpa.']);
    // default ttl 3600
    expect((await answers(lenient, 'own.example.test.', TYPE.A)).rrs).toEqual(['own.example.test. 3600 IN A 10.9.9.9']);
  });

  it('refuses bad options naming the line', async () => {
    await expect(start('.:53 {\n  hosts {\n    bogus entry\n  }\n}\n')).rejects.toThrow("Corefile:3 - Error during parsing: bogus: unknown property 'bogus'");
    await expect(start('.:53 {\n  hosts {\n    ttl 0\n  }\n}\n')).rejects.toThrow('Corefile:3 - Error during parsing: ttl: ttl provided is invalid');
    await expect(start('.:53 {\n  hosts\n  hosts\n}\n')).rejects.toThrow('Corefile:3 - Error during parsing: plugin/hosts: this plugin can only be used once per Server Block');
  });
});
