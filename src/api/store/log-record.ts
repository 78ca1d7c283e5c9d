// What one write looks like in the log: the revision it got, and either the new object stored under
// the key or the key's removal. Replaying these in order rebuilds the keyspace.

import type { KubeObject } from '../types.js';

export type LogRecord =
  | { revision: number; op: 'put'; key: string; object: KubeObject }
  | { revision: number; op: 'delete'; key: string };

/** objectJson is the already-serialised object, so the caller's single stringify is reused. */
export function putRecordJson(revision: number, key: string, objectJson: string): string {
  return `{"r":${revision},"t":"put","k":${JSON.stringify(key)},"o":${objectJson}}`;
}

export function deleteRecordJson(revision: number, key: string): string {
  return JSON.stringify({ r: revision, t: 'delete', k: key });
}

export function parseLogRecord(payload: string): LogRecord {
  const raw = JSON.parse(payload) as { r: number; t: string; k: string; o?: KubeObject };
  if (raw.t === 'put' && raw.o) return { revision: raw.r, op: 'put', key: raw.k, object: raw.o };
  if (raw.t === 'delete') return { revision: raw.r, op: 'delete', key: raw.k };
  throw new Error(`unknown store log record type ${JSON.stringify(raw.t)} at revision ${raw.r}`);
}
