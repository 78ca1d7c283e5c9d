// JSON Patch (RFC 6902), as `kubectl patch --type json` sends it: a list of add / remove /
// replace / move / copy / test operations on JSON Pointer (RFC 6901) paths, applied in order to a
// copy of the document; any failing operation fails the whole patch.

import { clone, deepEqual } from './objects.js';

export class JsonPatchError extends Error {
  constructor(
    message: string,
    /** true when the patch itself is malformed (400), false when it does not apply to the document (422) */
    readonly malformed: boolean,
  ) {
    super(message);
    this.name = 'JsonPatchError';
  }
}

type Container = Record<string, unknown> | unknown[];

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer: "${pointer}"`, true);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

/** Array index for token; '-' (append) only where allowAppend. */
function arrayIndex(arr: unknown[], token: string, path: string, allowAppend: boolean): number {
  if (allowAppend && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new JsonPatchError(`invalid array index "${token}" in path "${path}"`, false);
  const i = Number(token);
  if (i > arr.length || (!allowAppend && i === arr.length)) throw new JsonPatchError(`array index ${i} out of bounds in path "${path}"`, false);
  return i;
}

function getChild(parent: unknown, token: string, path: string): unknown {
  if (Array.isArray(parent)) return parent[arrayIndex(parent, token, path, false)];
  if (isContainer(parent) && Object.prototype.hasOwnProperty.call(parent, token)) return (parent as Record<string, unknown>)[token];
  throw new JsonPatchError(`path "${path}" does not exist`, false);
}

/** The container holding the last token of path, and that token. */
function locate(doc: unknown, path: string): { parent: Container; token: string } {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new JsonPatchError('operations on the whole document are not supported', false);
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) cur = getChild(cur, t, path);
  if (!isContainer(cur)) throw new JsonPatchError(`path "${path}" does not exist`, false);
  return { parent: cur, token: tokens[tokens.length - 1] };
}

function read(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const t of parsePointer(path)) cur = getChild(cur, t, path);
  return cur;
}

function add(doc: unknown, path: string, value: unknown): void {
  const { parent, token } = locate(doc, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, path, true), 0, value);
  else parent[token] = value;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, token } = locate(doc, path);
  const old = getChild(parent, token, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, path, false), 1);
  else delete parent[token];
  return old;
}

function validOperation(o: unknown): o is Operation {
  if (!isContainer(o) || Array.isArray(o)) return false;
  const op = o as Record<string, unknown>;
  return typeof op.op === 'string' && typeof op.path === 'string' && (op.from === undefined || typeof op.from === 'string');
}

/** Applies patch to a copy of doc and returns it; doc itself is not changed. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new JsonPatchError('json patch must be a list of operations', true);
  const result = clone(doc);
  for (const o of patch) {
    if (!validOperation(o)) throw new JsonPatchError(`invalid json patch operation: ${JSON.stringify(o)}`, true);
    const needsValue = o.op === 'add' || o.op === 'replace' || o.op === 'test';
    if (needsValue && !('value' in o)) throw new JsonPatchError(`missing value for "${o.op}" operation on path "${o.path}"`, true);
    switch (o.op) {
      case 'add':
        add(result, o.path, clone(o.value));
        break;
      case 'remove':
        remove(result, o.path);
        break;
      case 'replace':
        remove(result, o.path);
        add(result, o.path, clone(o.value));
        break;
      case 'move':
      case 'copy': {
        if (o.from === undefined) throw new JsonPatchError(`missing from for "${o.op}" operation on path "${o.path}"`, true);
        const value = o.op === 'move' ? remove(result, o.from) : clone(read(result, o.from));
        add(result, o.path, value);
        break;
      }
      case 'test':
        if (!deepEqual(read(result, o.path), o.value)) throw new JsonPatchError(`testing value ${o.path} failed`, false);
        break;
      default:
        throw new JsonPatchError(`unsupported json patch operation "${o.op}"`, true);
    }
  }
  return result;
}
