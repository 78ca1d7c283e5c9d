// Snapshots: the whole keyspace at one revision, as framed records — a header {revision, count}
// followed by one {key, object} record per entry, in key order. Written to a temporary file, synced,
// renamed into place and the directory synced, so a snapshot file is either complete or absent;
// the count and checksums still guard against a damaged file.

import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeObject } from '../types.js';
import { jsonOf } from './frozen.js';
import { decodeFrames, encodeFrame } from './record-frame.js';
import { fsyncDir, snapshotPath, TEMP_SUFFIX } from './store-files.js';

export interface SnapshotEntry {
  key: string;
  object: KubeObject;
}

export interface Snapshot {
  revision: number;
  entries: SnapshotEntry[];
}

/** Entries serialised per write call, so a large snapshot yields to the event loop between chunks. */
const ENTRIES_PER_CHUNK = 1000;

export async function writeSnapshot(dir: string, snapshot: Snapshot): Promise<string> {
  const finalPath = snapshotPath(dir, snapshot.revision);
  const tempPath = finalPath + TEMP_SUFFIX;
  const handle = await open(tempPath, 'w');
  try {
    await handle.write(encodeFrame(JSON.stringify({ revision: snapshot.revision, count: snapshot.entries.length })));
    for (let i = 0; i < snapshot.entries.length; i += ENTRIES_PER_CHUNK) {
      const chunk = snapshot.entries.slice(i, i + ENTRIES_PER_CHUNK).map((e) => encodeFrame(`[${JSON.stringify(e.key)},${jsonOf(e.object)}]`));
      await handle.writev(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, finalPath);
  await fsyncDir(dirname(finalPath));
  return finalPath;
}

/** Reads a snapshot file; undefined when it is damaged or incomplete. */
export async function readSnapshot(path: string): Promise<Snapshot | undefined> {
  const buf = await readFile(path);
  const { payloads, validLength } = decodeFrames(buf);
  if (payloads.length === 0 || validLength !== buf.length) return undefined;
  const header = JSON.parse(payloads[0]) as { revision: number; count: number };
  if (payloads.length !== header.count + 1) return undefined;
  const entries = payloads.slice(1).map((p) => {
    const [key, object] = JSON.parse(p) as [string, KubeObject];
    return { key, object };
  });
  return { revision: header.revision, entries };
}
