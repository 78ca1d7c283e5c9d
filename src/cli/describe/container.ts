// The per-container block of a Pod's or a Pod template's description.

import type { Container, ContainerState, ContainerStatus, Probe } from '../../api/types.js';
import { describeBool, describeTime, type DescribeWriter } from './writer.js';

function portList(c: Container, host: boolean): string {
  return (c.ports ?? [])
    .map((p) => `${host ? p.hostPort ?? 0 : p.containerPort}/${p.protocol ?? 'TCP'}${!host && p.name ? ` (${p.name})` : ''}`)
    .join(', ');
}

/** `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3` */
export function describeProbe(p: Probe): string {
  let action = 'unknown';
  if (p.httpGet) action = `http-get ${(p.httpGet.scheme ?? 'HTTP').toLowerCase()}://${p.httpGet.host ?? ''}:${p.httpGet.port}${p.httpGet.path ?? ''}`;
  else if (p.tcpSocket) action = `tcp-socket ${p.tcpSocket.host ?? ''}:${p.tcpSocket.port}`;
  else if (p.exec) action = `exec [${(p.exec.command ?? []).join(' ')}]`;
  return `${action} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

function describeState(w: DescribeWriter, level: number, title: string, st: ContainerState | undefined): void {
  if (st?.running) {
    w.line(level, `${title}:`, 'Running');
    w.line(level + 1, 'Started:', describeTime(st.running.startedAt));
  } else if (st?.terminated) {
    const t = st.terminated;
    w.line(level, `${title}:`, 'Terminated');
    if (t.reason) w.line(level + 1, 'Reason:', t.reason);
    if (t.message) w.line(level + 1, 'Message:', t.message);
    w.line(level + 1, 'Exit Code:', String(t.exitCode));
    if (t.signal) w.line(level + 1, 'Signal:', String(t.signal));
    w.line(level + 1, 'Started:', describeTime(t.startedAt));
    w.line(level + 1, 'Finished:', describeTime(t.finishedAt));
  } else {
    w.line(level, `${title}:`, 'Waiting');
    if (st?.waiting?.reason) w.line(level + 1, 'Reason:', st.waiting.reason);
    if (st?.waiting?.message) w.line(level + 1, 'Message:', st.waiting.message);
  }
}

/** One container; `status` is absent for templates (Deployments) and not-yet-started Pods. */
export function describeContainer(w: DescribeWriter, level: number, c: Container, status: ContainerStatus | undefined, inPod: boolean): void {
  w.line(level, `${c.name}:`);
  const l = level + 1;
  if (inPod) w.line(l, 'Container ID:', status?.containerID ?? '');
  w.line(l, 'Image:', c.image ?? '');
  if (inPod) w.line(l, 'Image ID:', status?.imageID ?? '');
  const many = (c.ports?.length ?? 0) > 1;
  w.line(l, many ? 'Ports:' : 'Port:', c.ports?.length ? portList(c, false) : '<none>');
  w.line(l, many ? 'Host Ports:' : 'Host Port:', c.ports?.length ? portList(c, true) : '<none>');
  for (const [title, words] of [['Command', c.command], ['Args', c.args]] as const) {
    if (!words?.length) continue;
    w.line(l, `${title}:`);
    for (const word of words) w.line(l + 1, word);
  }
  if (inPod) {
    describeState(w, l, 'State', status?.state);
    if (status?.lastState && Object.keys(status.lastState).length > 0) describeState(w, l, 'Last State', status.lastState);
    w.line(l, 'Ready:', describeBool(status?.ready));
    w.line(l, 'Restart Count:', String(status?.restartCount ?? 0));
  }
  if (c.livenessProbe) w.line(l, 'Liveness:', describeProbe(c.livenessProbe));
  if (c.readinessProbe) w.line(l, 'Readiness:', describeProbe(c.readinessProbe));
  if (c.startupProbe) w.line(l, 'Startup:', describeProbe(c.startupProbe));
  if (!c.env?.length) w.line(l, 'Environment:', '<none>');
  else {
    w.line(l, 'Environment:');
    for (const e of c.env) w.line(l + 1, `${e.name}:`, e.value ?? (e.valueFrom ? '<set from a reference>' : ''));
  }
  w.line(l, 'Mounts:', '<none>');
}
