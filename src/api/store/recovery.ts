// Rebuilds a FileStore's keyspace at open: the newest intact snapshot, then every log record after
// it in revision order. A torn tail on the last segment (a crash during an unacknowledged write) is
// cut off; damage anywhere else, or a hole in the revisions, is an error rather than silent loss.

import { open, readFile, unlink } from 'node:fs/promises';
import type { KubeObject } from '../types.js';
import { deepFreeze } from './frozen.js';
import { parseLogRecord } from './log-record.js';
import { decodeFrames } from './record-frame.js';
import { readSnapshot } from './snapshot.js';
import { listStoreFiles, removeCoveredFiles, segmentPath } from './store-files.js';

export interface RecoveredState {
  revision: number;
  objects: Map<string, KubeObject>;
  /** Log records after the snapshot: counts toward the next snapshot. */
  recordsSinceSnapshot: number;
  /** The segment new records are appended to. */
  activeSegment: string;
  /** Bytes cut off the last segment's torn tail. */
  truncatedBytes: number;
}

export async function recover(dir: string): Promise<RecoveredState> {
  const files = await listStoreFiles(dir);
  await Promise.all(files.temporaries.map((path) => unlink(path)));

  const state: RecoveredState = {
    revision: 0,
    objects: new Map(),
    recordsSinceSnapshot: 0,
    activeSegment: segmentPath(dir, 1),
    truncatedBytes: 0,
  };
  let snapshotRevision = 0;
  for (const file of [...files.snapshots].reverse()) {
    const snapshot = await readSnapshot(file.path);
    if (!snapshot) continue;
    snapshotRevision = snapshot.revision;
    state.revision = snapshot.revision;
    for (const { key, object } of snapshot.entries) state.objects.set(key, deepFreeze(object));
    break;
  }

  for (const [i, segment] of files.segments.entries()) {
    const buf = await readFile(segment.path);
    const { payloads, validLength } = decodeFrames(buf);
    if (validLength < buf.length) {
      if (i !== files.segments.length - 1) {
        throw new Error(`store log ${segment.path} is damaged at byte ${validLength} but is not the newest segment`);
      }
      await truncateFile(segment.path, validLength);
      state.truncatedBytes = buf.length - validLength;
    }
    for (const payload of payloads) {
      const record = parseLogRecord(payload);
      if (record.revision <= state.revision) continue;
      if (record.revision !== state.revision + 1) {
        throw new Error(`store log ${segment.path}: revision ${record.revision} follows ${state.revision}; records are missing`);
      }
      if (record.op === 'put') state.objects.set(record.key, deepFreeze(record.object));
      else state.objects.delete(record.key);
      state.revision = record.revision;
      state.recordsSinceSnapshot++;
    }
  }

  const last = files.segments.at(-1);
  state.activeSegment = last ? last.path : segmentPath(dir, state.revision + 1);
  if (snapshotRevision > 0) await removeCoveredFiles(dir, snapshotRevision);
  return state;
}

async function truncateFile(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
