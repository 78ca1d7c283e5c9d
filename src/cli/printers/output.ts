// The -o formats other than tables: yaml, json, name and jsonpath, shaped as kubectl prints them
// (yaml with sorted keys and unindented sequences, json with four-space indent, several objects
// wrapped in a `kind: List`).

import { stringify } from 'yaml';
import type { ResourceType } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { CliError } from '../errors.js';
import { renderTemplate } from '../jsonpath.js';
import { objectRef } from '../names.js';

export type OutputFormat =
  | { kind: 'table'; wide: boolean }
  | { kind: 'yaml' }
  | { kind: 'json' }
  | { kind: 'name' }
  | { kind: 'jsonpath'; template: string };

const ALLOWED = 'json,jsonpath,name,wide,yaml';

export function parseOutputFormat(flag: string | undefined): OutputFormat {
  const f = flag ?? '';
  if (f === '' || f === 'wide') return { kind: 'table', wide: f === 'wide' };
  if (f === 'yaml' || f === 'json' || f === 'name') return { kind: f };
  const jp = /^jsonpath=(.*)$/s.exec(f);
  if (jp) return { kind: 'jsonpath', template: jp[1] };
  throw new CliError(`unable to match a printer suitable for the output format "${f}", allowed formats are: ${ALLOWED}`);
}

export function toYaml(v: unknown): string {
  return stringify(v, { sortMapEntries: true, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false });
}

export function toJson(v: unknown): string {
  return `${JSON.stringify(v, null, 4)}\n`;
}

/** Several objects as kubectl returns them for -o yaml/json: a v1 List. */
export function asList(items: KubeObject[]): KubeObject {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

/** Print one object or a List in a non-table format; `named` tells each object's resource type for -o name. */
export function formatObjects(
  format: Exclude<OutputFormat, { kind: 'table' }>,
  objs: { r: ResourceType; obj: KubeObject }[],
  single: boolean,
): string {
  if (format.kind === 'name') return objs.map(({ r, obj }) => `${objectRef(r, obj.metadata.name ?? '')}\n`).join('');
  const value = single && objs.length === 1 ? objs[0].obj : asList(objs.map((o) => o.obj));
  if (format.kind === 'yaml') return toYaml(value);
  if (format.kind === 'json') return toJson(value);
  try {
    return renderTemplate(format.template, value);
  } catch (e) {
    throw new CliError(`error parsing jsonpath ${format.template}, ${(e as Error).message}`);
  }
}
