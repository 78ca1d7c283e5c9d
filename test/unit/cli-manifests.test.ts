import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { expandPath, parseManifestText, readManifests } from '../../src/cli/manifests.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-cli-manifests-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

describe('parseManifestText', () => {
  it('reads every document of a multi-document YAML and skips empty ones', () => {
    const objs = parseManifestText('---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n', 'f.yaml');
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/a', 'Service/b']);
  });

  it('reads JSON and expands a List into its items', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'y' } }] };
    expect(parseManifestText(JSON.stringify(list), 'l.json').map((o) => o.metadata.name)).toEqual(['x', 'y']);
  });

  it('names the file and line of a YAML syntax error', () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n';
    expect(() => parseManifestText(text, 'pod.yaml')).toThrow(/^error parsing pod\.yaml: error converting YAML to JSON: yaml: line [45]: /);
  });

  it('names what is missing when kind or apiVersion is not set', () => {
    expect(() => parseManifestText('metadata:\n  name: x\n', 'x.yaml')).toThrow('error validating "x.yaml": error validating data: [apiVersion not set, kind not set]');
    expect(() => parseManifestText('apiVersion: v1\nmetadata:\n  name: x\n', 'x.yaml')).toThrow('error validating data: kind not set;');
  });

  it('rejects a document that is not an object', () => {
    expect(() => parseManifestText('- a\n- b\n', 's.yaml')).toThrow(/error parsing s\.yaml/);
  });

  it('keeps quoted numbers as strings and reads YAML 1.1 booleans', () => {
    const [cm] = parseManifestText('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  port: "80"\n  enabled: yes\n', 'c.yaml');
    expect((cm as KubeObject & { data: Record<string, unknown> }).data).toEqual({ port: '80', enabled: true });
  });
});

describe('expandPath and readManifests', () => {
  const a = write('m/a.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n');
  write('m/b.json', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } }));
  write('m/notes.txt', 'not a manifest');
  write('m/sub/c.yml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: c\n');

  it('takes only manifest files of a folder, and sub-folders only with -R', () => {
    expect(expandPath(path.join(dir, 'm'), false).map((f) => path.relative(dir, f))).toEqual(['m/a.yaml', 'm/b.json']);
    expect(expandPath(path.join(dir, 'm'), true).map((f) => path.relative(dir, f))).toEqual(['m/a.yaml', 'm/b.json', 'm/sub/c.yml']);
  });

  it('reports a path that does not exist', () => {
    expect(() => expandPath(path.join(dir, 'nope.yaml'), false)).toThrow(`the path "${path.join(dir, 'nope.yaml')}" does not exist`);
  });

  it('reads files and stdin in argument order and remembers the source', async () => {
    const stdin = Readable.from(['apiVersion: v1\nkind: Namespace\n', 'metadata:\n  name: from-stdin\n']);
    const ms = await readManifests([a, '-'], { recursive: false, stdin });
    expect(ms.map((m) => [m.object.metadata.name, m.source])).toEqual([
      ['a', a],
      ['from-stdin', 'STDIN'],
    ]);
  });
});
