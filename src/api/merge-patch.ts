// JSON merge patch (RFC 7386), as `kubectl patch --type merge` sends it: objects merge key by key,
// null removes a key, anything else (arrays included) replaces the target value whole.

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies patch to target and returns the result; target is not modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The smallest merge patch that turns original into modified: changed keys only, null for removed
 * keys, arrays replaced whole; {} when both are equal. When modified is not an object the patch is
 * modified itself. A value of null inside modified cannot be expressed by a merge patch (it means
 * "remove"), so such keys end up absent, as RFC 7386 defines.
 */
export function createMergePatch(original: unknown, modified: unknown): unknown {
  if (!isObject(modified)) return modified;
  if (!isObject(original)) return withoutNulls(modified);
  const patch: JsonObject = {};
  for (const key of Object.keys(original)) {
    if (!(key in modified) || modified[key] === null) patch[key] = null;
  }
  for (const [key, value] of Object.entries(modified)) {
    if (value === null) continue;
    const before = original[key];
    if (isObject(value) && isObject(before)) {
      const sub = createMergePatch(before, value);
      if (isObject(sub) && Object.keys(sub).length > 0) patch[key] = sub;
    } else if (!deepEqual(before, value)) {
      patch[key] = isObject(value) ? withoutNulls(value) : value;
    }
  }
  return patch;
}

/** A new object with null-valued keys dropped at every object level (arrays left as they are). */
function withoutNulls(obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) continue;
    out[k] = isObject(v) ? withoutNulls(v) : v;
  }
  return out;
}
