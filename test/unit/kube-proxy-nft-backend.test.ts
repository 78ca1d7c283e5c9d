// Reading kube-proxy's nftables state back from `nft -j` output (as nftables 1.0.6 prints it) into
// the key / verdict text the builder writes.

import { describe, expect, it } from 'vitest';
import { elementsFromJson, objectsFromJson } from '../../src/sys/nft-backend.js';

const meta = { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } };

describe('nft -j listings', () => {
  it('turns map elements into "addr . proto . port" keys and goto/jump/drop verdicts, comments dropped', () => {
    const map = {
      family: 'ip',
      name: 'service-ips',
      table: 'kube-proxy',
      type: ['ipv4_addr', 'inet_proto', 'inet_service'],
      map: 'verdict',
      elem: [
        [{ concat: ['10.96.0.11', 'udp', 53] }, { jump: { target: 'reject-chain' } }],
        [{ elem: { val: { concat: ['10.96.0.10', 'tcp', 80] }, comment: 'ns/svc:http' } }, { goto: { target: 'service-ABCDEFGH-ns/svc/tcp/http' } }],
        [{ concat: ['10.96.0.12', 'tcp', 443] }, { drop: null }],
      ],
    };
    const [obj] = objectsFromJson(JSON.stringify({ nftables: [meta, { map }] }), 'map');
    expect(elementsFromJson(obj!)).toEqual([
      { key: '10.96.0.11 . udp . 53', value: 'jump reject-chain' },
      { key: '10.96.0.10 . tcp . 80', value: 'goto service-ABCDEFGH-ns/svc/tcp/http' },
      { key: '10.96.0.12 . tcp . 443', value: 'drop' },
    ]);
  });

  it('reads plain set elements as bare keys and an empty set as no elements', () => {
    const text = JSON.stringify({
      nftables: [
        meta,
        { set: { family: 'ip', name: 'cluster-ips', table: 'kube-proxy', type: 'ipv4_addr', elem: ['10.96.0.10', '10.96.0.1'] } },
        { set: { family: 'ip', name: 'nodeport-ips', table: 'kube-proxy', type: 'ipv4_addr' } },
      ],
    });
    const [clusterIPs, nodePortIPs] = objectsFromJson(text, 'set');
    expect(elementsFromJson(clusterIPs!)).toEqual([{ key: '10.96.0.10' }, { key: '10.96.0.1' }]);
    expect(elementsFromJson(nodePortIPs!)).toEqual([]);
  });

  it('picks objects of the asked kind only, with their tables', () => {
    const text = JSON.stringify({
      nftables: [
        meta,
        { chain: { family: 'ip', table: 'kube-proxy', name: 'nat-output', type: 'nat', hook: 'output', prio: -100 } },
        { chain: { family: 'ip', table: 'other', name: 'x' } },
        { set: { family: 'ip', table: 'kube-proxy', name: 'cluster-ips' } },
      ],
    });
    expect(objectsFromJson(text, 'chain').map((c) => `${c.table}/${c.name}`)).toEqual(['kube-proxy/nat-output', 'other/x']);
    expect(objectsFromJson(text, 'map')).toEqual([]);
  });
});
