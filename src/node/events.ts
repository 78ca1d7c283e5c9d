// Events the kubelet reports on a Pod (what `kemu describe pod` lists at the end): Pulled, Created,
// Started, Killing, BackOff, Failed, Unhealthy, with the kubelet's wording. Fire and forget: a lost
// event never holds up a Pod.

import { randomBytes } from 'node:crypto';
import type { Client } from '../api/client.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { Event, Pod } from '../api/types.js';
import { rfc3339 } from './status.js';

const EVENTS = RESOURCES.find((r) => r.kind === 'Event') as ResourceType;

export type EventRecorder = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => void;

export function eventRecorder(client: Client, nodeName: string, log: (m: string) => void): EventRecorder {
  return (pod, type, reason, message, fieldPath) => {
    const now = rfc3339(Date.now());
    const namespace = pod.metadata.namespace ?? 'default';
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { kind: 'Pod', namespace, name: pod.metadata.name, uid: pod.metadata.uid, apiVersion: 'v1', ...(fieldPath ? { fieldPath } : {}) },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: 'kubelet', host: nodeName },
    };
    client.create(EVENTS, namespace, event).catch((e: unknown) => log(`event ${reason} for ${namespace}/${pod.metadata.name} not recorded: ${(e as Error).message}`));
  };
}
