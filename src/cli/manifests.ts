// Reading `-f` arguments as kubectl does: files, folders (only their .json/.yaml/.yml files, and
// sub-folders only with -R), `-` for stdin; multi-document YAML and JSON; a `kind: List` (or any
// `*List` with items) stands for its items. Problems name the file, the line or the missing field.

import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../api/types.js';
import { CliError } from './errors.js';

export interface Manifest {
  object: KubeObject;
  /** The file it came from (as given on the command line), or 'STDIN'. */
  source: string;
}

const MANIFEST_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

/** Every object in one text; `source` names it in errors. */
export function parseManifestText(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text, { version: '1.1', prettyErrors: true })) {
    const problem = doc.errors[0];
    if (problem) {
      const line = problem.linePos?.[0].line;
      const what = problem.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new CliError(`error parsing ${source}: error converting YAML to JSON: yaml: ${line !== undefined ? `line ${line}: ` : ''}${what}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    objects.push(...flattenLists(value, source));
  }
  return objects;
}

function flattenLists(value: unknown, source: string): KubeObject[] {
  if (typeof value !== 'object' || Array.isArray(value) || value === null) {
    throw new CliError(`error parsing ${source}: error unmarshaling JSON: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type map[string]interface {}`);
  }
  const obj = value as Record<string, unknown>;
  const missing = [obj.apiVersion ? undefined : 'apiVersion not set', obj.kind ? undefined : 'kind not set'].filter((m): m is string => !!m);
  if (missing.length > 0) {
    const detail = missing.length === 1 ? missing[0] : `[${missing.join(', ')}]`;
    throw new CliError(`error validating "${source}": error validating data: ${detail}; if you choose to ignore these errors, turn validation off with --validate=false`);
  }
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    return obj.items.flatMap((item) => flattenLists(item, source));
  }
  if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = {};
  return [obj as KubeObject];
}

/** The manifest files a -f path stands for, in kubectl's order (sorted names, depth first). */
export function expandPath(p: string, recursive: boolean): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new CliError(`the path "${p}" does not exist`);
  }
  if (!stat.isDirectory()) return [p];
  const files: string[] = [];
  for (const entry of fs.readdirSync(p, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(p, entry.name);
    if (entry.isDirectory()) {
      if (recursive) files.push(...expandPath(full, true));
    } else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
      files.push(full);
    }
  }
  return files;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** All objects from the -f arguments, in order. */
export async function readManifests(filenames: string[], opts: { recursive: boolean; stdin: NodeJS.ReadableStream }): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const f of filenames) {
    if (f === '-') {
      const text = await readAll(opts.stdin);
      out.push(...parseManifestText(text, 'STDIN').map((object) => ({ object, source: 'STDIN' })));
      continue;
    }
    for (const file of expandPath(f, opts.recursive)) {
      const text = fs.readFileSync(file, 'utf8');
      out.push(...parseManifestText(text, file).map((object) => ({ object, source: file })));
    }
  }
  return out;
}
