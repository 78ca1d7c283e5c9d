// Objects the store hands out are shared by every reader, the watch history and the snapshot
// writer, so they are frozen: a caller that mutates one fails at once instead of silently
// changing what everybody else sees. Callers copy (structuredClone) before editing.

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
