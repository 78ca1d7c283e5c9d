// The embedded default store: the whole keyspace in memory, every write appended to a log in the
// store directory and synced before it is acknowledged, periodic snapshots that bound recovery time,
// and a window of recent events that watches resume from.
//
// Reads see committed writes only. A write is checked against and applied to the pending view at
// once, in call order (so later writes see earlier ones), but it becomes readable, reaches watchers
// and resolves only after the log sync that covers it. Objects handed out are deep-frozen and
// shared; copy before editing. A failed log write fails the store: that write and every later
// one are rejected, since the log no longer matches memory.

import { mkdir } from 'node:fs/promises';
import type { KubeObject } from '../types.js';
import { DirLock } from './dir-lock.js';
import { EventHistory } from './event-history.js';
import { frozenFromJson } from './frozen.js';
import { deleteRecordJson, putRecordJson } from './log-record.js';
import { LogWriter } from './log-writer.js';
import { encodeFrame } from './record-frame.js';
import { recover } from './recovery.js';
import { writeSnapshot } from './snapshot.js';
import { removeCoveredFiles, segmentPath } from './store-files.js';
import {
  StoreError,
  type Store,
  type StoreEvent,
  type StoreEventType,
  type StoreListResult,
  type StoreWatch,
  type StoreWatchHandlers,
} from './store.js';
import { SortedKeys } from './sorted-keys.js';
import { WatchHub } from './watch-hub.js';

export interface FileStoreOptions {
  /** Events kept for watch resumption (default 10,000). */
  historySize?: number;
  /** Log records between snapshots (default 10,000). */
  snapshotEvery?: number;
  /** Undelivered events after which a watcher is closed as too slow (default 100,000). */
  watchQueueLimit?: number;
}

/** A write applied to the pending view but not yet durable: the object, or null for a deletion. */
type PendingValue = { revision: number; object: KubeObject | null };

export class FileStore implements Store {
  private readonly objects: Map<string, KubeObject>;
  private readonly keys = new SortedKeys();
  /** Keys with writes in flight and their newest pending value; consulted before `objects`. */
  private readonly pending = new Map<string, PendingValue>();
  private committedRevision: number;
  private nextRevision: number;
  private readonly history: EventHistory;
  private readonly hub: WatchHub;
  private recordsSinceSnapshot: number;
  /** Revision whose commit triggers a snapshot, with the segment switch that precedes it. */
  private snapshotDue: { revision: number; switched: Promise<void> } | undefined;
  private snapshotChain: Promise<void> = Promise.resolve();
  private snapshotFailure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly lock: DirLock,
    private readonly writer: LogWriter,
    recovered: { revision: number; objects: Map<string, KubeObject>; recordsSinceSnapshot: number },
    private readonly snapshotEvery: number,
    historySize: number,
    watchQueueLimit: number,
  ) {
    this.objects = recovered.objects;
    for (const key of recovered.objects.keys()) this.keys.add(key);
    this.committedRevision = recovered.revision;
    this.nextRevision = recovered.revision + 1;
    this.recordsSinceSnapshot = recovered.recordsSinceSnapshot;
    this.history = new EventHistory(historySize, recovered.revision);
    this.hub = new WatchHub(watchQueueLimit);
  }

  /** Opens (creating if needed) the store in dir, taking its lock and recovering its contents. */
  static async open(dir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    const snapshotEvery = positiveInteger('snapshotEvery', opts.snapshotEvery ?? 10_000);
    const historySize = positiveInteger('historySize', opts.historySize ?? 10_000);
    const watchQueueLimit = positiveInteger('watchQueueLimit', opts.watchQueueLimit ?? 100_000);
    await mkdir(dir, { recursive: true });
    const lock = await DirLock.acquire(dir);
    try {
      const recovered = await recover(dir);
      const writer = await LogWriter.open(recovered.activeSegment);
      return new FileStore(dir, lock, writer, recovered, snapshotEvery, historySize, watchQueueLimit);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  get revision(): number {
    return this.committedRevision;
  }

  get compactedRevision(): number {
    return this.history.compactedRevision;
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  list(prefix: string): StoreListResult {
    const items = this.keys.withPrefix(prefix).map((key) => this.objects.get(key) as KubeObject);
    return { items, revision: this.committedRevision };
  }

  create(key: string, obj: KubeObject): Promise<KubeObject> {
    return this.write(key, () => {
      if (this.current(key)) throw new StoreError('AlreadyExists', key, `key already exists: ${key}`);
      return { type: 'ADDED', source: obj };
    });
  }

  update(key: string, obj: KubeObject, expectedRevision?: number): Promise<KubeObject> {
    return this.write(key, () => {
      this.expect(key, expectedRevision);
      return { type: 'MODIFIED', source: obj };
    });
  }

  delete(key: string, expectedRevision?: number): Promise<KubeObject> {
    return this.write(key, () => ({ type: 'DELETED', source: this.expect(key, expectedRevision) }));
  }

  watch(prefix: string, sinceRevision: number, handlers: StoreWatchHandlers): StoreWatch {
    if (this.closed) throw new Error('store is closed');
    if (!Number.isSafeInteger(sinceRevision) || sinceRevision < 0) {
      throw new Error(`watch revision must be a non-negative integer, got ${sinceRevision}`);
    }
    const compacted = this.history.compactedRevision;
    if (sinceRevision < compacted) {
      throw new StoreError('Gone', prefix, `too old resource version: ${sinceRevision} (${compacted})`);
    }
    // Replay and registration happen in one synchronous step, so no commit can fall between them.
    return this.hub.add(prefix, sinceRevision, this.history.since(sinceRevision, prefix), handlers);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.snapshotChain;
    this.hub.closeAll('store closed');
    await this.lock.release();
  }

  /** The newest value of key counting writes still in flight. */
  private current(key: string): KubeObject | undefined {
    const pending = this.pending.get(key);
    return pending ? (pending.object ?? undefined) : this.objects.get(key);
  }

  /** The current object, checked against expectedRevision. */
  private expect(key: string, expectedRevision: number | undefined): KubeObject {
    const existing = this.current(key);
    if (!existing) throw new StoreError('NotFound', key, `key not found: ${key}`);
    if (expectedRevision !== undefined && Number(existing.metadata.resourceVersion) !== expectedRevision) {
      throw new StoreError(
        'Conflict',
        key,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    return existing;
  }

  /**
   * The common write path: check preconditions against the pending view, stamp the next revision,
   * append to the log, and commit in memory once the log is synced.
   */
  private write(key: string, plan: () => { type: StoreEventType; source: KubeObject }): Promise<KubeObject> {
    try {
      if (this.closed) throw new Error('store is closed');
      const failure = this.writer.failed ?? this.snapshotFailure;
      if (failure) throw new Error(`store refuses writes after a failure: ${failure.message}`, { cause: failure });
      const { type, source } = plan();
      const revision = this.nextRevision++;
      const stamped = { ...source, metadata: { ...source.metadata, resourceVersion: String(revision) } };
      let frame: Buffer;
      let object: KubeObject;
      if (type === 'DELETED') {
        // The source is a stored (frozen) object: only the copied top and metadata need freezing.
        object = Object.freeze({ ...stamped, metadata: Object.freeze(stamped.metadata) });
        frame = encodeFrame(deleteRecordJson(revision, key));
      } else {
        const json = JSON.stringify(stamped);
        object = frozenFromJson<KubeObject>(json);
        frame = encodeFrame(putRecordJson(revision, key, json));
      }
      this.pending.set(key, { revision, object: type === 'DELETED' ? null : object });
      const durable = this.writer.append(frame);
      this.planSnapshot(revision);
      return durable.then(
        () => {
          this.commit({ type, key, object, revision });
          return object;
        },
        (err: unknown) => {
          if (this.pending.get(key)?.revision === revision) this.pending.delete(key);
          throw err;
        },
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private commit(event: StoreEvent): void {
    const { key, revision } = event;
    if (event.type === 'DELETED') {
      this.objects.delete(key);
      this.keys.remove(key);
    } else {
      if (!this.objects.has(key)) this.keys.add(key);
      this.objects.set(key, event.object);
    }
    if (this.pending.get(key)?.revision === revision) this.pending.delete(key);
    this.committedRevision = revision;
    this.history.push(event);
    this.hub.publish(event);
    if (this.snapshotDue?.revision === revision) this.startSnapshot(this.snapshotDue.switched);
  }

  /** Every snapshotEvery records: later records go to a new segment, and a snapshot follows. */
  private planSnapshot(revision: number): void {
    if (++this.recordsSinceSnapshot < this.snapshotEvery) return;
    this.recordsSinceSnapshot = 0;
    const switched = this.writer.switchSegment(segmentPath(this.dir, revision + 1));
    // A failed switch fails the writer, which rejects the writes themselves; nothing to add here.
    switched.catch(() => {});
    this.snapshotDue = { revision, switched };
  }

  /** Called at the commit of the snapshot's revision, so the committed map is exactly that state. */
  private startSnapshot(switched: Promise<void>): void {
    const revision = this.committedRevision;
    const entries = this.keys.withPrefix('').map((key) => ({ key, object: this.objects.get(key) as KubeObject }));
    this.snapshotDue = undefined;
    this.snapshotChain = this.snapshotChain
      .then(async () => {
        await switched;
        await writeSnapshot(this.dir, { revision, entries });
        await removeCoveredFiles(this.dir, revision);
      })
      .catch((err: unknown) => {
        // Keeping the log going without its snapshot would grow it unbounded and hide a disk problem.
        this.snapshotFailure ??= err instanceof Error ? err : new Error(String(err));
      });
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`FileStore option ${name} must be a positive integer, got ${value}`);
  return value;
}
