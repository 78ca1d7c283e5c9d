// The kubelet's crash-loop back-off (flowcontrol.Backoff keyed by pod + container): the first
// restart is immediate, then each restart waits 10 s, 20 s, 40 s … up to 5 min after the last exit;
// a container that has not been restarted for twice the maximum starts over at 10 s.

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;

export interface BackoffEntry {
  /** The current step. */
  backoffMs: number;
  /** When the step was last moved (a restart), epoch ms. */
  lastUpdate: number;
}

const expired = (eventMs: number, entry: BackoffEntry) => eventMs - entry.lastUpdate > 2 * MAX_BACKOFF_MS;

/** How long from now the container must still wait after finishing at finishedAtMs (0: restart now). */
export function restartDelay(entry: BackoffEntry | undefined, finishedAtMs: number, nowMs: number): number {
  if (!entry || expired(finishedAtMs, entry)) return 0;
  return Math.max(0, finishedAtMs + entry.backoffMs - nowMs);
}

/** The entry after a restart at nowMs. */
export function nextBackoff(entry: BackoffEntry | undefined, nowMs: number): BackoffEntry {
  if (!entry || expired(nowMs, entry)) return { backoffMs: INITIAL_BACKOFF_MS, lastUpdate: nowMs };
  return { backoffMs: Math.min(entry.backoffMs * 2, MAX_BACKOFF_MS), lastUpdate: nowMs };
}

/** Go's time.Duration.String() for whole seconds: 10s, 1m20s, 5m0s, 1h0m0s. */
export function goDurationString(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The CrashLoopBackOff waiting message, with the Pod formatted as the kubelet's format.Pod does. */
export function crashLoopMessage(entry: BackoffEntry, container: string, pod: { name: string; namespace: string; uid: string }): string {
  return `back-off ${goDurationString(entry.backoffMs)} restarting failed container=${container} pod=${pod.name}_${pod.namespace}(${pod.uid})`;
}
