// lab.yaml parsing: every shipped lab loads, and a broken lab.yaml is refused naming its field.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLab, LABS_ROOT, listLabs } from '../../src/labs/catalog.js';
import { parseLabSpec } from '../../src/labs/spec.js';

const minimal = (extra: string): string => `title: T
cluster: { workers: 1 }
manifests: [m.yaml]
${extra}`;

const check = `checks:
  - id: a
    description: d
    probe: { kind: field, resource: services, name: web, jsonpath: "{.spec.type}" }
    expect: { equals: ClusterIP }
    hint: h
`;

describe('lab.yaml', () => {
  it('loads every shipped lab, with its README and manifests', () => {
    const labs = listLabs();
    expect(labs.map((l) => l.number)).toEqual(expect.arrayContaining(['01', '02', '03', '04', '09']));
    for (const lab of labs) {
      expect(fs.existsSync(path.join(lab.dir, 'README.md'))).toBe(true);
      expect(fs.readFileSync(path.join(lab.dir, 'README.md'), 'utf8')).toContain(`kemu lab start ${lab.number}`);
      expect(lab.spec.checks.length + lab.spec.questions.length).toBeGreaterThan(0);
    }
  });

  it('finds a lab by number with or without the leading zero, or by folder name', () => {
    expect(findLab('2').name).toBe('02-clusterip-iptables');
    expect(findLab('02-clusterip-iptables').number).toBe('02');
    expect(() => findLab('77')).toThrow(/no lab "77"; there are: 01-pods-and-the-overlay/);
    expect(LABS_ROOT.endsWith('labs')).toBe(true);
  });

  it('fills in the cluster shape defaults', () => {
    const spec = parseLabSpec(minimal(check), 'x');
    expect(spec.cluster).toEqual({ workers: 1, backend: 'vxlan', proxyMode: 'iptables' });
    expect(spec.checks[0].probe).toEqual({ kind: 'field', resource: 'services', name: 'web', jsonpath: '{.spec.type}' });
  });

  it.each([
    ['a missing title', 'cluster: {}\nmanifests: [m]\n' + check, 'x: title: required non-empty string'],
    ['an unknown backend', minimal(check).replace('workers: 1', 'backend: flannel'), 'x: cluster.backend: must be one of vxlan, host-gw, none'],
    ['two expectations', minimal(check.replace('{ equals: ClusterIP }', '{ equals: a, fails: true }')), 'x: checks[0].expect: exactly one of'],
    ['a bad regular expression', minimal(check.replace('{ equals: ClusterIP }', '{ matches: "(" }')), 'x: checks[0].expect.matches: invalid regular expression'],
    ['an unquoted -4 in argv', minimal(check.replace('{ kind: field, resource: services, name: web, jsonpath: "{.spec.type}" }', '{ kind: nodeCommand, node: worker, argv: [ip, -4, route] }')), 'x: checks[0].probe.argv: must be a non-empty list of strings'],
    ['a duplicate id', minimal(check + check.replace('checks:\n', '')), 'x: checks[1].id: duplicate id "a"'],
    ['no checks at all', minimal(''), 'x: checks: a lab needs at least one check or question'],
  ])('refuses %s, naming the field', (_what, text, message) => {
    expect(() => parseLabSpec(text, 'x')).toThrow(message);
  });
});
