// The READY, STATUS and RESTARTS of a Pod as `kubectl get pods` computes them (printPod): the
// phase, overridden by init-container progress, then by the most telling container state, then by
// Terminating once deletion has begun.

import type { ContainerStatus, Pod } from '../../api/types.js';
import { age } from './age.js';

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

export function summarizePod(pod: Pod, now: number): PodSummary {
  const st = pod.status ?? {};
  let reason: string = st.reason || st.phase || '';
  let restarts = 0;
  let lastRestart = 0;
  const noteRestarts = (c: ContainerStatus): void => {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  };

  const initStatuses = ((st as { initContainerStatuses?: ContainerStatus[] }).initContainerStatuses ?? []);
  const initCount = pod.spec.initContainers?.length ?? 0;
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    noteRestarts(c);
    const term = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term) reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    else if (waiting?.reason && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
    break;
  }

  let readyContainers = 0;
  if (!initializing) {
    restarts = 0;
    lastRestart = 0;
    let hasRunning = false;
    const statuses = st.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      noteRestarts(c);
      const term = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A finished container next to a running one: the Pod as a whole still runs.
    if (reason === 'Completed' && hasRunning) {
      reason = st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';

  const restartText = restarts !== 0 && lastRestart > 0 ? `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)` : String(restarts);
  return { ready: `${readyContainers}/${pod.spec.containers?.length ?? 0}`, status: reason, restarts: restartText };
}
