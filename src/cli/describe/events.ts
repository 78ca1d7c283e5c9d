// The Events section at the end of describe: the events that involve the object, oldest first.

import type { Client } from '../../api/client.js';
import { RESOURCES } from '../../api/resources.js';
import type { Event, KubeObject } from '../../api/types.js';
import { age } from '../printers/age.js';

const EVENTS = RESOURCES.find((r) => r.plural === 'events')!;

function involves(e: Event, obj: KubeObject): boolean {
  const io = e.involvedObject;
  if (io.uid && obj.metadata.uid) return io.uid === obj.metadata.uid;
  return io.kind === obj.kind && io.name === obj.metadata.name && (io.namespace ?? '') === (obj.metadata.namespace ?? '');
}

export async function eventsFor(client: Client, obj: KubeObject): Promise<Event[]> {
  const list = await client.list<Event>(EVENTS, obj.metadata.namespace);
  const when = (e: Event): number => Date.parse(e.lastTimestamp ?? e.firstTimestamp ?? '') || 0;
  return list.items.filter((e) => involves(e, obj)).sort((a, b) => when(a) - when(b));
}

/** The Events block, tab-separated for the describe tabwriter. */
export function eventsSection(events: Event[], now: number): string {
  if (events.length === 0) return 'Events:\t<none>\n';
  let s = 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n';
  for (const e of events) {
    const first = age(e.firstTimestamp ?? (e as { eventTime?: string }).eventTime, now);
    const interval = (e.count ?? 1) > 1 ? `${age(e.lastTimestamp, now)} (x${e.count} over ${first})` : first;
    const from = e.source?.component || ((e as { reportingComponent?: string }).reportingComponent ?? '');
    s += `  ${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${from}\t${(e.message ?? '').trim()}\n`;
  }
  return s;
}
