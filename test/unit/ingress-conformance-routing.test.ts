// Every request of the Ingress conformance suite (cases.json + manifests), as a pure routing
// question: which backend Service serves it, or 404.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDynamicConfig, type BuildOptions } from '../../src/ingress/config/build.js';
import { RouteTable } from '../../src/ingress/router/table.js';
import { routingHost } from '../../src/ingress/router/request-target.js';
import { CONFORMANCE, conformanceObjects, routeRequest } from './ingress-harness.js';

interface Case {
  feature: string;
  scenario: string;
  request: { method?: string; scheme?: string; host?: string | null; path?: string; count?: number } | null;
  expect: { status?: number; service?: string; distinctEchoPods?: number; replicas?: number };
}

const cases = (JSON.parse(readFileSync(`${CONFORMANCE}/cases.json`, 'utf8')) as { cases: Case[] }).cases;
const opts: BuildOptions = { compat: 'spec', defaultEntryPoints: ['web', 'websecure'], tlsEntryPoints: ['websecure'] };
const entryPoints = [
  { name: 'web', tls: false },
  { name: 'websecure', tls: true },
];
const STATUS_ADDRESS = '172.30.7.2';

describe('conformance cases as routing decisions', () => {
  const routed = cases.filter((c) => c.request?.path !== undefined && c.expect.status !== undefined && !c.request.count);
  it('covers the request cases of every feature with requests', () => {
    expect(new Set(routed.map((c) => c.feature))).toEqual(new Set(['default_backend', 'host_rules', 'path_rules']));
  });

  for (const c of routed) {
    const req = c.request!;
    it(`${c.feature}: ${req.method} ${req.scheme}://${req.host ?? '<address>'}${req.path} -> ${c.expect.status} ${c.expect.service ?? ''}`, () => {
      const config = buildDynamicConfig(conformanceObjects(c.feature), opts);
      const table = new RouteTable(config, entryPoints);
      expect(table.errors).toEqual(new Map());
      const ep = req.scheme === 'https' ? 'websecure' : 'web';
      const hit = table.match(ep, routeRequest(routingHost(req.host ?? STATUS_ADDRESS), req.path!, { method: req.method ?? 'GET' }));
      if (c.expect.status === 404) {
        expect(hit).toBeUndefined();
        return;
      }
      expect(hit?.config.origin?.service).toBe(c.expect.service);
      const service = config.services.find((s) => s.name === hit!.config.service)!;
      expect(service.loadBalancer.servers.length).toBeGreaterThan(0);
    });
  }

  it('ingress_class: an Ingress of a foreign class yields no routers at all', () => {
    const config = buildDynamicConfig(conformanceObjects('ingress_class'), opts);
    expect(config.routers).toEqual([]);
    const table = new RouteTable(config, entryPoints);
    expect(table.match('web', routeRequest('ingress-class', '/'))).toBeUndefined();
  });

  it('load_balancing: the default backend spreads over every ready endpoint', () => {
    const lb = cases.find((c) => c.feature === 'load_balancing')!;
    const config = buildDynamicConfig(conformanceObjects('load_balancing', lb.expect.replicas), opts);
    const table = new RouteTable(config, entryPoints);
    const hit = table.match('web', routeRequest(lb.request!.host!, lb.request!.path!));
    const service = config.services.find((s) => s.name === hit?.config.service);
    expect(service?.loadBalancer.servers).toHaveLength(lb.expect.distinctEchoPods!);
    expect(service?.loadBalancer.servers.every((s) => s.url.startsWith('http://10.244.1.') && s.url.endsWith(':3000'))).toBe(true);
  });
});
