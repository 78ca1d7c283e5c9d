// Appends framed records to the current log segment with group commit: while one synced write is
// in flight, new records queue up, and the next round writes all of them at once. A record's
// promise resolves only after the synced write that covered it. Segment switches are queued in the
// same order as records, so a segment never holds records from after the switch point.
//
// The first failed write or sync is final: every queued and later record is rejected with it,
// because what reached the disk is no longer known.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './store-files.js';

interface PendingRecord {
  kind: 'record';
  frame: Buffer;
  resolve(): void;
  reject(err: Error): void;
}

interface PendingSwitch {
  kind: 'switch';
  path: string;
  resolve(): void;
  reject(err: Error): void;
}

type Pending = PendingRecord | PendingSwitch;

/** Caps one round's write so a huge backlog still goes out in bounded pieces. */
const MAX_ROUND_BYTES = 16 * 1024 * 1024;

export class LogWriter {
  private queue: Pending[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private failure: Error | undefined;

  private constructor(private handle: FileHandle) {}

  /** Opens (creating if needed) a segment for appending. */
  static async open(path: string): Promise<LogWriter> {
    return new LogWriter(await openSegment(path));
  }

  /** The error that stopped this writer, if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  append(frame: Buffer): Promise<void> {
    return this.enqueue((resolve, reject) => ({ kind: 'record', frame, resolve, reject }));
  }

  /** Records appended after this call go to a new segment at path; resolves once it is open. */
  switchSegment(path: string): Promise<void> {
    return this.enqueue((resolve, reject) => ({ kind: 'switch', path, resolve, reject }));
  }

  /** Waits for everything queued so far, then closes the segment. */
  async close(): Promise<void> {
    if (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.handle.close();
  }

  private enqueue(make: (resolve: () => void, reject: (err: Error) => void) => Pending): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const done = new Promise<void>((resolve, reject) => this.queue.push(make(resolve, reject)));
    if (!this.running) {
      this.running = true;
      // Started on the next microtask so writes issued in the same tick share the first round.
      queueMicrotask(() => void this.drain());
    }
    return done;
  }

  private async drain(): Promise<void> {
    // What is being written or opened right now; rejected together with the queue on failure.
    let inFlight: Pending[] = [];
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0];
        if (head.kind === 'switch') {
          inFlight = this.queue.splice(0, 1);
          const next = await openSegment(head.path);
          await this.handle.close();
          this.handle = next;
          head.resolve();
          continue;
        }
        const round = this.takeRound();
        inFlight = round;
        const frames = round.map((r) => r.frame);
        const { bytesWritten } = await this.handle.writev(frames);
        const expected = frames.reduce((sum, f) => sum + f.length, 0);
        if (bytesWritten !== expected) throw new Error(`short write: ${bytesWritten} of ${expected} bytes`);
        for (const record of round) record.resolve();
      }
    } catch (err) {
      const cause = err instanceof Error ? err : new Error(String(err));
      this.failure = new Error(`store log write failed: ${cause.message}`, { cause });
      for (const pending of [...inFlight, ...this.queue.splice(0)]) pending.reject(this.failure);
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Removes and returns the leading run of records, up to the next switch or the size cap. */
  private takeRound(): PendingRecord[] {
    let count = 0;
    let bytes = 0;
    for (const next of this.queue) {
      if (next.kind !== 'record' || (count > 0 && bytes + next.frame.length > MAX_ROUND_BYTES)) break;
      count++;
      bytes += next.frame.length;
    }
    return this.queue.splice(0, count) as PendingRecord[];
  }
}

/**
 * Segments are opened O_DSYNC: a write returns once its data (and the size that makes it readable)
 * is on stable storage, as write + fdatasync would, in one trip to the thread pool instead of two.
 */
const SEGMENT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC;

async function openSegment(path: string): Promise<FileHandle> {
  const handle = await open(path, SEGMENT_FLAGS);
  await fsyncDir(dirname(path));
  return handle;
}
