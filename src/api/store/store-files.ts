// The files a FileStore keeps in its directory and the small filesystem steps it needs:
//   wal-<first revision>.log   log segments, one framed record per write
//   snap-<revision>.snap       the whole keyspace at that revision
// Revisions are zero-padded so names sort in revision order.

import { open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const DIGITS = 16;
const SEGMENT_RE = /^wal-(\d{16})\.log$/;
const SNAPSHOT_RE = /^snap-(\d{16})\.snap$/;
export const TEMP_SUFFIX = '.tmp';

export function segmentPath(dir: string, firstRevision: number): string {
  return join(dir, `wal-${String(firstRevision).padStart(DIGITS, '0')}.log`);
}

export function snapshotPath(dir: string, revision: number): string {
  return join(dir, `snap-${String(revision).padStart(DIGITS, '0')}.snap`);
}

export interface StoreFile {
  path: string;
  /** First revision for a segment, the covered revision for a snapshot. */
  revision: number;
}

export interface StoreFiles {
  segments: StoreFile[];
  snapshots: StoreFile[];
  /** Leftovers of snapshot writes interrupted by a crash. */
  temporaries: string[];
}

/** Lists the store's files, each kind sorted by revision ascending. */
export async function listStoreFiles(dir: string): Promise<StoreFiles> {
  const files: StoreFiles = { segments: [], snapshots: [], temporaries: [] };
  for (const name of await readdir(dir)) {
    const segment = SEGMENT_RE.exec(name);
    const snapshot = SNAPSHOT_RE.exec(name);
    if (segment) files.segments.push({ path: join(dir, name), revision: Number(segment[1]) });
    else if (snapshot) files.snapshots.push({ path: join(dir, name), revision: Number(snapshot[1]) });
    else if (name.endsWith(TEMP_SUFFIX)) files.temporaries.push(join(dir, name));
  }
  const byRevision = (a: StoreFile, b: StoreFile) => a.revision - b.revision;
  files.segments.sort(byRevision);
  files.snapshots.sort(byRevision);
  return files;
}

/** Makes created, renamed and removed directory entries durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes what a durable snapshot at `revision` makes redundant: older snapshots, and segments
 * whose records all lie at or below it (a segment ends where the next one starts).
 */
export async function removeCoveredFiles(dir: string, revision: number): Promise<void> {
  const { segments, snapshots } = await listStoreFiles(dir);
  const doomed: string[] = snapshots.filter((s) => s.revision < revision).map((s) => s.path);
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i + 1].revision <= revision + 1) doomed.push(segments[i].path);
  }
  if (doomed.length === 0) return;
  await Promise.all(doomed.map((path) => unlink(path)));
  await fsyncDir(dir);
}
