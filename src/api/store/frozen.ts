// Objects the store hands out are shared by every reader, the watch history and the snapshot
// writer, so they are frozen: a caller that mutates one fails at once instead of silently
// changing what everybody else sees. Callers copy before editing.
//
// Since a frozen object never changes, the JSON text it was parsed from stays its serialisation:
// it is remembered, and the log, the snapshots, the API responses and the watch streams reuse it
// instead of serialising the same object again.

const jsonTexts = new WeakMap<object, string>();

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The value json holds, deep-frozen, with json remembered as its serialisation. */
export function frozenFromJson<T extends object>(json: string): T {
  const value = deepFreeze(JSON.parse(json) as T);
  jsonTexts.set(value, json);
  return value;
}

/** JSON.stringify(value), taken from memory for an object made by frozenFromJson. */
export function jsonOf(value: unknown): string {
  const known = typeof value === 'object' && value !== null ? jsonTexts.get(value) : undefined;
  return known ?? JSON.stringify(value);
}
