// kube-proxy's /healthz and /livez (upstream pkg/proxy/healthcheck ProxyHealthServer): healthy
// unless a queued change has waited longer than healthTimeout (2 × syncPeriod) without a sync;
// /healthz also answers 503 when the node is being deleted or drained by the cluster autoscaler.

import type { Node } from '../api/types.js';

export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

export interface HealthState {
  /** ms epoch of the last successful sync; undefined before the first. */
  lastUpdated?: number;
  /** ms epoch of the oldest change queued and not yet synced; undefined when none is pending. */
  oldestPendingQueued?: number;
  nodeEligible: boolean;
}

export function nodeEligible(node: Node | undefined): boolean {
  if (node === undefined) return true;
  if (node.metadata.deletionTimestamp) return false;
  return !(node.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
}

export interface HealthAnswer {
  status: 200 | 503;
  body: string;
}

/** Go's zero time.Time as JSON prints it, used before the first sync. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export function healthAnswer(path: '/healthz' | '/livez', state: HealthState, now: number, healthTimeoutMs: number): HealthAnswer {
  const stale = state.oldestPendingQueued !== undefined && now - state.oldestPendingQueued > healthTimeoutMs;
  const lastUpdated = state.lastUpdated === undefined ? ZERO_TIME : new Date(state.lastUpdated).toISOString();
  const fields: Record<string, string | boolean> = { lastUpdated, currentTime: new Date(now).toISOString() };
  let healthy = !stale;
  if (path === '/healthz') {
    fields.nodeEligible = state.nodeEligible;
    healthy &&= state.nodeEligible;
  }
  return { status: healthy ? 200 : 503, body: JSON.stringify(fields) };
}
