// GET ...?watch=true: a chunked stream of {"type", "object"} lines, one per change, filtered by
// namespace and selectors. As the real watch cache does, an object that stops matching a
// selector arrives as DELETED and one that starts matching as ADDED. BOOKMARK events carry the
// current resourceVersion when the client allows them; a revision older than the cache keeps ends
// the stream with an ERROR event holding a 410 Expired Status.
//
// A change goes to many watchers: its line is serialised once and the Buffer shared by all of them,
// and the lines a watcher gets in one turn of the event loop go out in one write.

import type { ServerResponse } from 'node:http';
import { badRequest, isApiError } from '../errors.js';
import { apiVersionOf, storagePrefix, type ResourceType } from '../resources.js';
import { jsonOf } from '../store/frozen.js';
import type { KubeObject, Status, WatchEvent } from '../types.js';
import type { ObjectFilter } from './selectors.js';
import type { CacheEvent, WatchCache } from './watch-cache.js';

/** A client that lets this much output pile up unread is cut off (it re-watches and resumes). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** A line of the stream: a change, a bookmark, or the ERROR that ends it. */
type WireEvent = WatchEvent | { type: 'ERROR'; object: Status };

export interface WatchParams {
  resource: ResourceType;
  namespace: string | undefined;
  filter: ObjectFilter;
  resourceVersion: string | undefined;
  allowBookmarks: boolean;
  timeoutSeconds: number | undefined;
  bookmarkIntervalMs: number;
}

/** The revision to resume after; undefined means "current state first" (unset or "0"). */
function sinceRevision(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '' || rv === '0') return undefined;
  if (!/^[0-9]+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  return Number(rv);
}

/** A stream line; the same bytes as JSON.stringify(event), reusing a stored object's JSON. */
function encode(event: WireEvent): Buffer {
  return Buffer.from(`{"type":"${event.type}","object":${jsonOf(event.object)}}\n`);
}

/** The line of e as a watcher sees it with this type: encoded by the first watcher, then shared. */
function sharedLine(e: CacheEvent, type: CacheEvent['type']): Buffer {
  const lines = (e.lines ??= {});
  return (lines[type] ??= encode({ type, object: e.object }));
}

/** The line a watcher with this filter gets for a change, if any. */
function filteredLine(e: CacheEvent, filter: ObjectFilter): Buffer | undefined {
  if (e.type !== 'MODIFIED') return filter(e.object) ? sharedLine(e, e.type) : undefined;
  const now = filter(e.object);
  const before = e.prevObject !== undefined && filter(e.prevObject);
  if (now) return sharedLine(e, before ? 'MODIFIED' : 'ADDED');
  if (!before) return undefined;
  // left the selection: its last matching state, at this event's resourceVersion
  const last = e.prevObject as KubeObject;
  return encode({ type: 'DELETED', object: { ...last, metadata: { ...last.metadata, resourceVersion: String(e.revision) } } });
}

/** Serves one watch request until the client goes, the timeout passes or the cache ends it. */
export function serveWatch(cache: WatchCache, res: ServerResponse, p: WatchParams): void {
  const since = sinceRevision(p.resourceVersion);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  const timers: NodeJS.Timeout[] = [];
  let subscription: { stop(): void } | undefined;
  let ended = false;
  /** Lines waiting for the end of this turn, written together. */
  let pending: Buffer[] = [];
  const writePending = (): void => {
    if (pending.length === 0) return;
    res.write(pending.length === 1 ? pending[0] : Buffer.concat(pending));
    pending = [];
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    writePending();
    subscription?.stop();
    for (const t of timers) clearInterval(t);
    res.end();
  };
  const flush = (): void => {
    if (ended) return;
    writePending();
    if (res.writableLength > MAX_BUFFERED_BYTES) end();
  };
  const sendLine = (line: Buffer): void => {
    if (ended) return;
    if (pending.push(line) === 1) queueMicrotask(flush);
  };
  const send = (event: WireEvent): void => sendLine(encode(event));

  const prefix = storagePrefix(p.resource, p.namespace);
  try {
    subscription = cache.watch(prefix, since, {
      onEvent: (e) => {
        const line = filteredLine(e, p.filter);
        if (line) sendLine(line);
      },
      onClose: end,
    });
  } catch (e) {
    if (!isApiError(e)) throw e;
    send({ type: 'ERROR', object: e.status });
    end();
    return;
  }
  if (ended) return;

  // 'close' fires when the client goes away (or after our own end)
  res.once('close', end);
  if (p.timeoutSeconds !== undefined && p.timeoutSeconds > 0) timers.push(setTimeout(end, p.timeoutSeconds * 1000));
  if (p.allowBookmarks) {
    const bookmark = (): void => {
      const resourceVersion = String(Math.max(cache.revision, since ?? 0));
      send({ type: 'BOOKMARK', object: { apiVersion: apiVersionOf(p.resource), kind: p.resource.kind, metadata: { resourceVersion } } });
    };
    timers.push(setInterval(bookmark, p.bookmarkIntervalMs));
  }
}
