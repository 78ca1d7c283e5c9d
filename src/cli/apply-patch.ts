// Client-side `kubectl apply`: the manifest as last applied is kept in an annotation, and the update
// is a three-way JSON merge patch between that (original), the new manifest (modified) and the live
// object (current). Fields the user dropped since the last apply are deleted; fields only the server
// or others set are left alone. Lists cannot be merged by a JSON merge patch, so a list is sent
// whole when the manifest's list is not already contained in the live one (server defaults inside
// list items, such as a container's imagePullPolicy, do not count as a difference).

import type { KubeObject } from '../api/types.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonMap = { [k: string]: Json };

function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** True when every field `want` sets has the same value in `have` (which may hold more). */
function containedIn(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((x, i) => containedIn(x, have[i]));
  if (isMap(want)) return isMap(have) && Object.keys(want).every((k) => k in have && containedIn(want[k], have[k]));
  return want === have;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** The annotation's value: the manifest without the annotation itself, as compact JSON with sorted keys. */
export function lastAppliedConfiguration(manifest: KubeObject): string {
  const copy = structuredClone(manifest);
  const annotations = copy.metadata.annotations;
  if (annotations) {
    delete annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  }
  return `${JSON.stringify(sortKeys(copy))}\n`;
}

/** A copy of the manifest carrying its own last-applied annotation: what apply sends or diffs against. */
export function withLastApplied(manifest: KubeObject): KubeObject {
  const copy = structuredClone(manifest);
  copy.metadata.annotations = { ...copy.metadata.annotations, [LAST_APPLIED_ANNOTATION]: lastAppliedConfiguration(manifest) };
  return copy;
}

/** The last applied manifest recorded on a live object, if any. */
export function readLastApplied(live: KubeObject): KubeObject | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isMap(parsed) ? (parsed as unknown as KubeObject) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The merge patch that brings `current` to `modified`, deleting what `original` had and `modified`
 * no longer has. An empty object means nothing to change.
 */
export function threeWayMergePatch(original: unknown, modified: unknown, current: unknown): JsonMap {
  const o = isMap(original) ? original : {};
  const m = isMap(modified) ? modified : {};
  const c = isMap(current) ? current : {};
  const patch: JsonMap = {};
  for (const [k, want] of Object.entries(m)) {
    const have = c[k];
    if (isMap(want) && isMap(have)) {
      const sub = threeWayMergePatch(o[k], want, have);
      if (Object.keys(sub).length > 0) patch[k] = sub;
    } else if (Array.isArray(want) && Array.isArray(have)) {
      // Sent whole when the live list lacks something, or when the user removed something from
      // it since the last apply that is still there.
      const lacks = !containedIn(want, have);
      const removedSince = k in o && !deepEqual(o[k], want) && !deepEqual(have, want);
      if (lacks || removedSince) patch[k] = want;
    } else if (!deepEqual(want, have)) {
      patch[k] = want;
    }
  }
  for (const k of Object.keys(o)) {
    if (!(k in m) && k in c) patch[k] = null;
  }
  return patch;
}
