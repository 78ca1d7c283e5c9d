// The storage interface behind the API server, shaped like etcd3 as the real API server uses it:
// keys under prefixes, one global revision that becomes every object's resourceVersion, compare
// and swap on that revision, and watches that resume from a revision until it is compacted.
// The embedded default (FileStore) keeps everything in memory and makes each write durable
// before it is acknowledged; an etcd backend would implement the same interface.

import type { KubeObject } from '../types.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  key: string;
  /** The object after the change; for DELETED, the last state with the deletion's resourceVersion. */
  object: KubeObject;
  /** The revision of this change (equals object.metadata.resourceVersion). */
  revision: number;
}

export interface StoreListResult {
  items: KubeObject[];
  /** The store's revision when the list was taken: resume a watch from here. */
  revision: number;
}

export interface StoreWatch {
  stop(): void;
}

export interface StoreWatchHandlers {
  onEvent(event: StoreEvent): void;
  /** Called when the watch cannot continue (store closed, watcher too slow); no more events follow. */
  onClose?(reason: string): void;
}

/** Thrown by the store; the API server turns these into Status errors with the resource's name. */
export class StoreError extends Error {
  constructor(
    readonly kind: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone',
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface Store {
  /** The newest committed revision (0 for an empty store). */
  readonly revision: number;
  /** The oldest revision a watch can still resume from; older gets 'Gone'. */
  readonly compactedRevision: number;

  get(key: string): KubeObject | undefined;
  /** All objects whose key starts with prefix, sorted by key. */
  list(prefix: string): StoreListResult;

  /** Store a new object; sets metadata.resourceVersion. Resolves once durable. AlreadyExists if present. */
  create(key: string, obj: KubeObject): Promise<KubeObject>;
  /**
   * Replace an object. When expectedRevision is given and differs from the stored object's
   * resourceVersion: Conflict. NotFound if absent. Resolves once durable.
   */
  update(key: string, obj: KubeObject, expectedRevision?: number): Promise<KubeObject>;
  /** Remove an object; returns it as it was, with the deletion's revision as resourceVersion. */
  delete(key: string, expectedRevision?: number): Promise<KubeObject>;

  /**
   * Events for keys under prefix with a revision greater than sinceRevision, in order, then live.
   * sinceRevision older than compactedRevision throws StoreError('Gone').
   */
  watch(prefix: string, sinceRevision: number, handlers: StoreWatchHandlers): StoreWatch;

  close(): Promise<void>;
}
