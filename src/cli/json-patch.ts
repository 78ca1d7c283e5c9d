// RFC 6902 JSON Patch, applied on the client for `kemu patch --type json` (the result is sent to
// the API as a merge patch).

import { CliError } from './errors.js';

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

type Container = Record<string, unknown> | unknown[];

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new CliError(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The container holding the pointer's last token, and that token. */
function parentOf(doc: unknown, path: string): [Container, string] {
  const tokens = pointer(path);
  if (tokens.length === 0) throw new CliError('cannot operate on the document root');
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : (cur as Record<string, unknown> | undefined)?.[t];
    if (typeof cur !== 'object' || cur === null) throw new CliError(`doc is missing path: "${path}"`);
  }
  return [cur as Container, tokens[tokens.length - 1]];
}

function getAt(doc: unknown, path: string): unknown {
  const [parent, key] = parentOf(doc, path);
  const v = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (v === undefined) throw new CliError(`doc is missing path: "${path}"`);
  return v;
}

function removeAt(doc: unknown, path: string): unknown {
  const [parent, key] = parentOf(doc, path);
  const v = getAt(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
  return v;
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): void {
  const [parent, key] = parentOf(doc, path);
  if (replace) getAt(doc, path);
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw new CliError(`index out of range in path "${path}"`);
    if (replace) parent[idx] = value;
    else parent.splice(idx, 0, value);
  } else {
    parent[key] = value;
  }
}

/** Apply the operations to a copy of doc. */
export function applyJsonPatch(doc: unknown, ops: JsonPatchOp[]): unknown {
  const out = structuredClone(doc);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        addAt(out, op.path, structuredClone(op.value), false);
        break;
      case 'replace':
        addAt(out, op.path, structuredClone(op.value), true);
        break;
      case 'remove':
        removeAt(out, op.path);
        break;
      case 'move':
        addAt(out, op.path, removeAt(out, op.from ?? ''), false);
        break;
      case 'copy':
        addAt(out, op.path, structuredClone(getAt(out, op.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(out, op.path)) !== JSON.stringify(op.value)) throw new CliError(`testing value ${op.path} failed`);
        break;
      default:
        throw new CliError(`Unexpected kind: ${(op as { op: string }).op}`);
    }
  }
  return out;
}
