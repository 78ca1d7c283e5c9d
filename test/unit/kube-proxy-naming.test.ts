// Chain-name hashing and endpoint probabilities against the data of conformance folder 25.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainHash, endpointChainName, isServiceChainName, serviceChainNames } from '../../src/proxy/iptables/chain-names.js';
import { computeProbability } from '../../src/proxy/iptables/probability.js';
import type { Protocol } from '../../src/api/types.js';
import { casesRoot, readYaml } from './kube-proxy-cases.js';

const dataDir = path.join(casesRoot, '25-iptables-misc-data');

interface ChainNameData {
  service: { servicePortName: string; protocol: string; hash: string }[];
  endpoint: { servicePortName: string; protocol: string; endpoint: string; chain: string }[];
}

const proto = (p: string): Protocol => p.toUpperCase() as Protocol;

describe('kube-proxy chain names', () => {
  const data = readYaml<ChainNameData>(path.join(dataDir, 'chain-names.yaml'));

  it.each(data.service)('service chains of $servicePortName/$protocol', ({ servicePortName, protocol, hash }) => {
    expect(serviceChainNames(servicePortName, proto(protocol))).toEqual({
      clusterPolicy: `KUBE-SVC-${hash}`,
      localPolicy: `KUBE-SVL-${hash}`,
      external: `KUBE-EXT-${hash}`,
      firewall: `KUBE-FW-${hash}`,
    });
  });

  it.each(data.endpoint)('endpoint chain of $servicePortName -> $endpoint', ({ servicePortName, protocol, endpoint, chain }) => {
    expect(endpointChainName(servicePortName, proto(protocol), endpoint)).toBe(chain);
  });

  it('hashes are 16 characters of the RFC 4648 base32 alphabet', () => {
    for (const input of ['', 'a', 'ns/svc:p80tcp', 'x'.repeat(500)]) expect(chainHash(input)).toMatch(/^[A-Z2-7]{16}$/);
    // base32(sha256("")) starts with 4OYMIQUY7QOBJGX3 (sha256("") = e3b0c442 98fc1c14 ...).
    expect(chainHash('')).toBe('4OYMIQUY7QOBJGX3');
  });

  it('recognises only per-service chains as deletable', () => {
    expect(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ')).toBe(true);
    expect(isServiceChainName('KUBE-FW-NUKIZ6OKUXPJNT4C')).toBe(true);
    expect(isServiceChainName('KUBE-SERVICES')).toBe(false);
    expect(isServiceChainName('KUBE-MARK-MASQ')).toBe(false);
  });
});

describe('kube-proxy endpoint probabilities', () => {
  const { expected } = readYaml<{ expected: Record<string, string> }>(path.join(dataDir, 'compute-probability.yaml'));

  it.each(Object.entries(expected))('probability(%s) = %s', (n, text) => {
    expect(computeProbability(Number(n))).toBe(text);
  });

  it('grows strictly as the number of remaining endpoints falls', () => {
    let firstViolation: number | undefined;
    for (let n = 100000, previous = -1; n >= 2 && firstViolation === undefined; n--) {
      const value = Number(computeProbability(n));
      if (!(value > previous)) firstViolation = n;
      previous = value;
    }
    expect(firstViolation).toBeUndefined();
  });
});
