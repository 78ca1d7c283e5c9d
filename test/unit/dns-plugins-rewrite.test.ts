// The rewrite plugin in front of the kubernetes zone: every name match type, stop/continue, the
// answer rewrites (exact always, `answer auto`, `answer name`/`value`), type rules, and setup errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Namespace, Service } from '../../src/api/types.js';
import { StaticZoneSource } from '../../src/dns/kubernetes/source.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/main.js';
import { formatRR, RCODE, TYPE } from '../../src/dns/wire/message.js';
import { query } from './dns-harness.js';

const source = new StaticZoneSource({
  namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } } satisfies Namespace],
  services: [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'app' },
      spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    } satisfies Service,
  ],
  endpointSlices: [],
  pods: [],
});
const quiet = { info: () => undefined, error: () => undefined };
let dns: ClusterDns;

function start(corefile: string): Promise<ClusterDns> {
  return startClusterDns({ source, corefile, listen: { address: '127.0.0.1', port: 0 }, log: quiet });
}

beforeAll(async () => {
  dns = await start(String.raw`.:53 {
    rewrite type HINFO A
    rewrite name exact db.corp.test web.app.svc.cluster.local
    rewrite name suffix .corp.test. .app.svc.cluster.local. answer auto
    rewrite name prefix legacy. web.
    rewrite name substring .staging. .app.
    rewrite name regex (.*)-(app)\.example\.test {1}.{2}.svc.cluster.local answer name (.*)\.(app)\.svc\.cluster\.local {1}-{2}.example.test
    rewrite stop {
        name regex (.*)\.blk\.test {1}.app.svc.cluster.local
        answer name (.*)\.app\.svc\.cluster\.local {1}.blk.test
        answer value (.*)\.app\.svc\.cluster\.local {1}.blk.test
    }
    rewrite continue name exact first.test second.test
    rewrite name exact second.test web.app.svc.cluster.local
    rewrite stop name exact halt.test second.test
    kubernetes cluster.local
}
`);
});

afterAll(async () => {
  await dns.stop();
});

const ask = async (name: string, type: number) => {
  const m = await query(dns.udpPort, name, type, { transport: 'udp' });
  return { rcode: m.rcode, question: m.question[0]?.name, answer: m.answer.map(formatRR), additional: m.additional.map(formatRR) };
};

describe('rewrite plugin', () => {
  it('exact: answers for the name asked, in lower case, with the question echoed as sent', async () => {
    expect(await ask('DB.Corp.Test.', TYPE.A)).toEqual({ rcode: RCODE.NOERROR, question: 'DB.Corp.Test.', answer: ['db.corp.test. 5 IN A 10.96.0.20'], additional: [] });
  });

  it('suffix with answer auto: owner names, SRV targets and glue carry the old suffix', async () => {
    expect(await ask('_http._tcp.web.corp.test.', TYPE.SRV)).toEqual({
      rcode: RCODE.NOERROR,
      question: '_http._tcp.web.corp.test.',
      answer: ['_http._tcp.web.corp.test. 5 IN SRV 0 100 80 web.corp.test.'],
      additional: ['web.corp.test. 5 IN A 10.96.0.20'],
    });
  });

  it('prefix and substring without answer rules leave the answer at the rewritten name', async () => {
    expect((await ask('legacy.app.svc.cluster.local.', TYPE.A)).answer).toEqual(['web.app.svc.cluster.local. 5 IN A 10.96.0.20']);
    expect((await ask('web.staging.svc.cluster.local.', TYPE.A)).answer).toEqual(['web.app.svc.cluster.local. 5 IN A 10.96.0.20']);
  });

  it('regex with {N} groups, and answer name / answer value mapping back', async () => {
    expect((await ask('web-app.example.test.', TYPE.A)).answer).toEqual(['web-app.example.test. 5 IN A 10.96.0.20']);
    const srv = await ask('_http._tcp.web.blk.test.', TYPE.SRV);
    expect(srv.answer).toEqual(['_http._tcp.web.blk.test. 5 IN SRV 0 100 80 web.blk.test.']);
    expect(srv.additional).toEqual(['web.blk.test. 5 IN A 10.96.0.20']);
  });

  it('continue lets the next rule see the rewritten name; stop ends the rule list', async () => {
    expect((await ask('first.test.', TYPE.A)).answer).toEqual(['first.test. 5 IN A 10.96.0.20']);
    // halt.test becomes second.test and stops there: nothing in the chain serves second.test
    expect((await ask('halt.test.', TYPE.A)).rcode).toBe(RCODE.SERVFAIL);
  });

  it('type rules rewrite the question type', async () => {
    expect((await ask('web.app.svc.cluster.local.', TYPE.HINFO)).answer).toEqual(['web.app.svc.cluster.local. 5 IN A 10.96.0.20']);
  });

  it('a name nothing matches goes through unchanged', async () => {
    expect(await ask('nothere.app.svc.cluster.local.', TYPE.A)).toMatchObject({ rcode: RCODE.NXDOMAIN, answer: [] });
  });

  it('refuses bad rules naming the line', async () => {
    const bad = (rule: string) => start(`.:53 {\n  kubernetes cluster.local\n  ${rule}\n}\n`);
    await expect(bad('rewrite name regex (a x.')).rejects.toThrow('Corefile:3 - Error during parsing: rewrite: invalid regex matching pattern: (a');
    await expect(bad('rewrite name regex (a) {1}{2}.x')).rejects.toThrow('uses more subexpressions than its corresponding matching regex pattern ((a))');
    await expect(bad('rewrite name fuzzy a b')).rejects.toThrow('name rule supports only exact, prefix, suffix, substring, and regex name matching, received: fuzzy');
    await expect(bad('rewrite answer name a b')).rejects.toThrow('response rewrites must begin with a name rule');
    await expect(bad('rewrite name regex (a) b answer auto answer name (c) d')).rejects.toThrow('auto name answer rule cannot be combined with explicit name answer rules');
    await expect(bad('rewrite edns0 local set 0xffee abcd')).rejects.toThrow('rule type "edns0" is not supported by kemu');
    await expect(bad('rewrite type A NOPE')).rejects.toThrow('invalid type "NOPE"');
  });
});
