import { describe, expect, it } from 'vitest';
import { parseArgs, type FlagSpec } from '../../src/cli/args.js';
import { parseWaitFor, conditionMet } from '../../src/cli/commands/wait.js';
import { tailLines } from '../../src/cli/commands/logs.js';
import { parseDuration } from '../../src/cli/duration.js';
import { applyJsonPatch } from '../../src/cli/json-patch.js';
import { evaluatePath, renderTemplate } from '../../src/cli/jsonpath.js';
import { metadataPatch, splitChanges } from '../../src/cli/metadata-edit.js';
import { parseTargets } from '../../src/cli/targets.js';
import { containerNameForImage, deploymentObject } from '../../src/cli/generators.js';

const SPEC: FlagSpec = {
  namespace: { kind: 'string', short: 'n' },
  'all-namespaces': { kind: 'boolean', short: 'A' },
  watch: { kind: 'boolean', short: 'w' },
  output: { kind: 'string', short: 'o' },
  filename: { kind: 'strings', short: 'f' },
  'dry-run': { kind: 'string', noValueDefault: 'client' },
};

describe('parseArgs', () => {
  it('takes flags anywhere, in every spelling kubectl accepts', () => {
    const a = parseArgs(['pods', '-n', 'demo', 'web', '--output=wide', '-f', 'a.yaml', '--filename', 'b.yaml', '-Aw'], SPEC);
    expect(a.positionals).toEqual(['pods', 'web']);
    expect(a.string('namespace')).toBe('demo');
    expect(a.string('output')).toBe('wide');
    expect(a.strings('filename')).toEqual(['a.yaml', 'b.yaml']);
    expect(a.bool('all-namespaces')).toBe(true);
    expect(a.bool('watch')).toBe(true);
    expect(parseArgs(['-ndemo'], SPEC).string('namespace')).toBe('demo');
    expect(parseArgs(['-n=demo'], SPEC).string('namespace')).toBe('demo');
    expect(parseArgs(['--watch=false'], SPEC).bool('watch', true)).toBe(false);
  });

  it('treats everything after -- as positional and uses the no-value default', () => {
    const a = parseArgs(['--dry-run', '--', '-n', 'x'], SPEC);
    expect(a.string('dry-run')).toBe('client');
    expect(a.positionals).toEqual(['-n', 'x']);
  });

  it('rejects unknown flags and missing values in kubectl words', () => {
    expect(() => parseArgs(['--bogus'], SPEC)).toThrow('unknown flag: --bogus');
    expect(() => parseArgs(['-z'], SPEC)).toThrow("unknown shorthand flag: 'z' in -z");
    expect(() => parseArgs(['-n'], SPEC)).toThrow('flag needs an argument: --namespace');
    expect(parseArgs(['--bogus=1', '--flag'], SPEC, true).string('bogus')).toBe('1');
  });
});

describe('parseTargets', () => {
  it('understands TYPE NAME..., TYPE/NAME, comma lists and all', () => {
    expect(parseTargets(['po', 'a', 'b']).map((t) => [t.r.plural, t.names])).toEqual([['pods', ['a', 'b']]]);
    expect(parseTargets(['pod/a', 'svc/b', 'pods/c']).map((t) => [t.r.plural, t.names])).toEqual([
      ['pods', ['a', 'c']],
      ['services', ['b']],
    ]);
    expect(parseTargets(['deploy,svc']).map((t) => t.r.plural)).toEqual(['deployments', 'services']);
    expect(parseTargets(['all']).map((t) => t.r.plural)).toEqual(['pods', 'services', 'deployments', 'replicasets']);
    expect(() => parseTargets(['frobs'])).toThrow('the server doesn\'t have a resource type "frobs"');
  });
});

describe('wait --for', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };

  it('parses the three forms', () => {
    expect(parseWaitFor('delete')).toEqual({ kind: 'delete' });
    expect(parseWaitFor('condition=Ready')).toEqual({ kind: 'condition', type: 'Ready', status: 'true' });
    expect(parseWaitFor('condition=Ready=false')).toEqual({ kind: 'condition', type: 'Ready', status: 'false' });
    expect(parseWaitFor('jsonpath={.status.phase}=Running')).toEqual({ kind: 'jsonpath', path: '.status.phase', value: 'Running' });
    expect(() => parseWaitFor('ready')).toThrow('unrecognized condition: "ready"');
  });

  it('compares conditions case-insensitively and jsonpath values as text', () => {
    expect(conditionMet(pod, { kind: 'condition', type: 'ready', status: 'TRUE' })).toBe(true);
    expect(conditionMet(pod, { kind: 'condition', type: 'Ready', status: 'false' })).toBe(false);
    expect(conditionMet(pod, { kind: 'jsonpath', path: '.status.phase', value: 'Running' })).toBe(true);
    expect(conditionMet(pod, { kind: 'jsonpath', path: '.status.podIP', value: undefined })).toBe(false);
  });
});

describe('jsonpath', () => {
  const list = { items: [{ metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'x' } } }, { metadata: { name: 'b' } }] };
  it('walks fields, indexes, wildcards and quoted keys', () => {
    expect(evaluatePath(list, '.items[*].metadata.name')).toEqual(['a', 'b']);
    expect(evaluatePath(list, '.items[-1].metadata.name')).toEqual(['b']);
    expect(evaluatePath(list, ".items[0].metadata.labels['app\\.kubernetes\\.io/name']")).toEqual(['x']);
    expect(renderTemplate('names: {.items[*].metadata.name}\n', list)).toBe('names: a b\n');
  });
});

describe('label and annotate changes', () => {
  it('splits resources from KEY=VALUE and KEY- words', () => {
    expect(splitChanges(['pods', 'web', 'app=v2', 'tier-'], 'label')).toEqual({ resources: ['pods', 'web'], changes: { set: { app: 'v2' }, remove: ['tier'] } });
  });

  it('needs --overwrite to change an existing value, and skips no-ops', () => {
    const changes = { set: { app: 'v2' }, remove: ['gone'] };
    expect(() => metadataPatch({ app: 'v1' }, changes, false)).toThrow("'app' already has a value (v1), and --overwrite is false");
    expect(metadataPatch({ app: 'v1', gone: 'x' }, changes, true)).toEqual({ app: 'v2', gone: null });
    expect(metadataPatch({ app: 'v2' }, changes, false)).toBeUndefined();
  });
});

describe('small helpers', () => {
  it('parses Go durations', () => {
    expect(parseDuration('30s', 'timeout')).toBe(30_000);
    expect(parseDuration('1m30s', 'timeout')).toBe(90_000);
    expect(parseDuration('500ms', 'timeout')).toBe(500);
    expect(parseDuration('5', 'timeout')).toBe(5000);
    expect(() => parseDuration('soon', 'timeout')).toThrow('time: invalid duration "soon"');
  });

  it('applies RFC 6902 operations', () => {
    const doc = { spec: { replicas: 1, ports: [80] } };
    expect(applyJsonPatch(doc, [
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/spec/ports/-', value: 443 },
      { op: 'add', path: '/spec/paused', value: true },
    ])).toEqual({ spec: { replicas: 3, ports: [80, 443], paused: true } });
    expect(doc.spec.replicas).toBe(1);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/spec/nothing' }])).toThrow('doc is missing path: "/spec/nothing"');
  });

  it('keeps the last lines for --tail', () => {
    expect(tailLines('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(tailLines('a\nb\nc\n', -1)).toBe('a\nb\nc\n');
  });

  it('names containers after the image as kubectl create deployment does', () => {
    expect(containerNameForImage('registry.k8s.io/e2e-test-images/agnhost:2.39')).toBe('agnhost');
    expect(containerNameForImage('nginx@sha256:abc')).toBe('nginx');
    const d = deploymentObject('web', ['nginx:1.25'], 2, 80);
    expect(d.spec.selector.matchLabels).toEqual({ app: 'web' });
    expect(d.spec.template.spec.containers).toEqual([{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }]);
  });
});
