// Type checking of a request body at decode time, as kube-apiserver's JSON decoding into Go structs
// does: a label value `true` (YAML `x: yes`) or `replicas: "3"` is a 400 BadRequest naming the
// field the way encoding/json does, before defaulting or validation see the object. A JSON null
// decodes to the Go zero value: an absent field, or "" / 0 / false inside maps and lists.

import { badRequest } from '../errors.js';
import { goStructOf, type GoType } from './go-types.js';

const INT_RANGE = { int32: 2 ** 31, int64: 2 ** 63 };

/** JSON's name for a value, as encoding/json reports what it could not decode. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number, object
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a JSON null inside a map or list becomes: the element type's zero value. */
function zero(t: GoType): unknown {
  switch (t.kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int':
      return 0;
    case 'struct':
    case 'map':
      return {};
    case 'slice':
      return [];
    case 'intOrString':
      return 0;
  }
}

/** Where a mismatch sits: the innermost struct and the dotted JSON path from the top (no indices, as Go). */
interface Place {
  owner: string;
  path: string;
}

function mismatch(v: unknown, t: GoType, at: Place, detail = jsonKind(v)): string {
  return `json: cannot unmarshal ${detail} into Go struct field ${at.owner}.${at.path} of type ${t.go}`;
}

/** The first mismatch of v against t, in document order; null fields are removed on the way. */
function check(t: GoType, v: unknown, at: Place): string | undefined {
  switch (t.kind) {
    case 'string':
      return typeof v === 'string' ? undefined : mismatch(v, t, at);
    case 'bool':
      return typeof v === 'boolean' ? undefined : mismatch(v, t, at);
    case 'int': {
      if (typeof v !== 'number') return mismatch(v, t, at);
      const limit = INT_RANGE[t.go];
      return Number.isInteger(v) && v >= -limit && v < limit ? undefined : mismatch(v, t, at, `number ${v}`);
    }
    case 'intOrString':
      return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? undefined : mismatch(v, t, at);
    case 'map':
      if (!isObject(v)) return mismatch(v, t, at);
      for (const key of Object.keys(v)) {
        if (v[key] === null) v[key] = zero(t.value);
        else {
          const err = check(t.value, v[key], at);
          if (err) return err;
        }
      }
      return undefined;
    case 'slice':
      if (!Array.isArray(v)) return mismatch(v, t, at);
      for (let i = 0; i < v.length; i++) {
        if (v[i] === null) v[i] = zero(t.item);
        else {
          const err = check(t.item, v[i], at);
          if (err) return err;
        }
      }
      return undefined;
    case 'struct':
      if (!isObject(v)) return mismatch(v, t, at);
      for (const key of Object.keys(v)) {
        const field = t.fields[key];
        if (!field) continue;
        if (v[key] === null) {
          delete v[key];
          continue;
        }
        const err = check(field, v[key], { owner: t.name, path: at.path ? `${at.path}.${key}` : key });
        if (err) return err;
      }
      return undefined;
  }
}

/**
 * Checks the fields of body (an object whose apiVersion/kind already match the type) against the
 * Go types they decode into; 400 BadRequest worded as kube-apiserver's decoder on the first mismatch.
 */
export function checkFieldTypes(type: { kind: string; version: string }, body: Record<string, unknown>): void {
  const top = goStructOf(type.kind);
  const err = check(top, body, { owner: top.name, path: '' });
  if (err) throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${err}`);
}
