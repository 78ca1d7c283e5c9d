// Small helpers shared by the API server's modules: copying and comparing JSON objects, the
// timestamps and generated names the API server puts on objects, and the resource names used in
// error messages.

import { randomInt } from 'node:crypto';
import type { ResourceType } from '../resources.js';
import type { KubeObject } from '../types.js';

/** A deep copy of a JSON value (much cheaper than structuredClone for plain objects). */
export function clone<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) out[key] = clone((v as Record<string, unknown>)[key]);
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality of JSON values; key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    const otherKeys = Object.keys(b).filter((k) => b[k] !== undefined);
    return keys.length === otherKeys.length && keys.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

let lastStamp = { second: NaN, text: '' };

/** RFC 3339 with second precision, as metav1.Time serialises: 2024-05-01T12:00:00Z. */
export function timestamp(at: Date = new Date()): string {
  // a busy server stamps many objects within one second: format each second once
  const second = Math.floor(at.getTime() / 1000);
  if (second !== lastStamp.second) lastStamp = { second, text: at.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return lastStamp.text;
}

// apimachinery's rand.String alphabet: no vowels (no accidental words) and no look-alikes (0/o, 1/l).
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + 5 random characters, as the API server's names.SimpleNameGenerator. */
export function generatedName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  // the whole name must still fit in 63 characters
  return prefix.slice(0, 58) + suffix;
}

/** The resource as error messages name it: `pods`, `deployments.apps`. */
export function qualifiedResource(r: ResourceType): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export function objectName(obj: KubeObject): string {
  return obj.metadata.name ?? '';
}

/** metadata.resourceVersion as a store revision; undefined when unset. */
export function revisionOf(obj: KubeObject): number | undefined {
  const rv = obj.metadata.resourceVersion;
  return rv ? Number(rv) : undefined;
}
