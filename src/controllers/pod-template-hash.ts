// The pod-template-hash a Deployment puts on its ReplicaSets. Upstream hashes the template's
// printed form with fnv32a (mixing in status.collisionCount when set) and renders the decimal
// value with SafeEncodeString, mapping each digit onto the alphabet 'bcdfghjklmnpqrstvwxz2456789'
// so the label never looks like a word or a number. Here the printed form is JSON with sorted keys,
// so the hash is stable across restarts and independent of field order in a manifest.

import type { PodTemplateSpec } from '../api/types.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted at every level; undefined members are dropped, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Each character of s mapped onto the safe alphabet by its char code (upstream rand.SafeEncodeString). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

export function computePodTemplateHash(template: PodTemplateSpec, collisionCount?: number): string {
  const enc = new TextEncoder();
  let h = fnv32a(enc.encode(canonicalJson(template)));
  if (collisionCount !== undefined) {
    // Upstream feeds the count's 4 little-endian bytes into the same hasher.
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

function withoutHashLabel(t: PodTemplateSpec): PodTemplateSpec {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  const metadata = { ...(t.metadata ?? {}), labels: Object.keys(labels).length ? labels : undefined };
  return { ...t, metadata };
}

/** Whether two templates are the same apart from the pod-template-hash label (upstream EqualIgnoreHash). */
export function templatesEqualIgnoringHash(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return canonicalJson(withoutHashLabel(a)) === canonicalJson(withoutHashLabel(b));
}
