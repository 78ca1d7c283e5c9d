// A small structural-schema checker for kinds that a real cluster gets from a CustomResourceDefinition:
// types, required properties, enums and minimums, with the messages apiextensions-apiserver gives
// (`spec.x in body must be of type integer: "string"`). Unknown properties are left alone (a real
// API server would prune them; kemu keeps what a manifest carries).

import { fieldErrors, type FieldError } from '../errors.js';

export type Schema =
  | { type: 'string'; enum?: readonly string[] }
  | { type: 'integer'; minimum?: number }
  | { type: 'boolean' }
  | { type: 'int-or-string' }
  | { type: 'array'; items: Schema }
  | { type: 'map'; values: Schema }
  | { type: 'object'; properties: Record<string, Schema>; required?: readonly string[] };

export const str: Schema = { type: 'string' };
export const int: Schema = { type: 'integer' };
export const bool: Schema = { type: 'boolean' };
export const intOrString: Schema = { type: 'int-or-string' };
export const strings: Schema = { type: 'array', items: str };
export const stringMap: Schema = { type: 'map', values: str };
export const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
export const oneOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
export const object = (properties: Record<string, Schema>, required: readonly string[] = []): Schema => ({ type: 'object', properties, required });

/** The OpenAPI type name of a JSON value, as the schema validator reports it. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v; // string, boolean, object
}

function typeError(path: string, v: unknown, expected: string): FieldError {
  const actual = jsonType(v);
  return fieldErrors.invalid(path, actual, `${path} in body must be of type ${expected}: "${actual}"`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every violation of `schema` by `value` at `path` (the value itself is present). */
export function checkSchema(schema: Schema, value: unknown, path: string): FieldError[] {
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [typeError(path, value, 'string')];
      return schema.enum && !schema.enum.includes(value) ? [fieldErrors.notSupported(path, value, [...schema.enum])] : [];
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [typeError(path, value, 'integer')];
      return schema.minimum !== undefined && value < schema.minimum
        ? [fieldErrors.invalid(path, value, `${path} in body should be greater than or equal to ${schema.minimum}`)]
        : [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [typeError(path, value, 'boolean')];
    case 'int-or-string':
      return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? [] : [typeError(path, value, 'integer,string')];
    case 'array':
      if (!Array.isArray(value)) return [typeError(path, value, 'array')];
      return value.flatMap((item, i) => checkSchema(schema.items, item, `${path}[${i}]`));
    case 'map':
      if (!isPlainObject(value)) return [typeError(path, value, 'object')];
      return Object.entries(value).flatMap(([k, v]) => checkSchema(schema.values, v, `${path}.${k}`));
    case 'object': {
      if (!isPlainObject(value)) return [typeError(path, value, 'object')];
      const errs: FieldError[] = [];
      for (const name of schema.required ?? []) if (value[name] === undefined) errs.push(fieldErrors.required(join(path, name)));
      for (const [name, sub] of Object.entries(schema.properties)) {
        if (value[name] !== undefined) errs.push(...checkSchema(sub, value[name], join(path, name)));
      }
      return errs;
    }
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
