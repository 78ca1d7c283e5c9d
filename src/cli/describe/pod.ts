// kemu describe pod

import type { KubeObject, Pod } from '../../api/types.js';
import { humanDuration } from '../printers/age.js';
import { describeContainer } from './container.js';
import type { DescribeContext } from './context.js';
import { eventsFor, eventsSection } from './events.js';
import { describeTime, DescribeWriter } from './writer.js';

/** `ReplicaSet/web-5d4f8` for the controlling owner, if any. */
export function controlledBy(obj: KubeObject): string | undefined {
  const owner = obj.metadata.ownerReferences?.find((o) => o.controller);
  return owner ? `${owner.kind}/${owner.name}` : undefined;
}

export async function describePod(obj: KubeObject, ctx: DescribeContext): Promise<string> {
  const pod = obj as Pod;
  const st = pod.status ?? {};
  const w = new DescribeWriter();
  w.line(0, 'Name:', pod.metadata.name ?? '');
  w.line(0, 'Namespace:', pod.metadata.namespace ?? '');
  w.line(0, 'Priority:', String((pod.spec.priority as number | undefined) ?? 0));
  w.line(0, 'Service Account:', pod.spec.serviceAccountName ?? 'default');
  w.line(0, 'Node:', pod.spec.nodeName ? `${pod.spec.nodeName}/${st.hostIP ?? ''}` : '<none>');
  if (st.startTime) w.line(0, 'Start Time:', describeTime(st.startTime));
  w.map(0, 'Labels', pod.metadata.labels);
  w.annotations(pod);
  if (pod.metadata.deletionTimestamp) {
    w.line(0, 'Status:', `Terminating (lasts ${humanDuration(Date.parse(pod.metadata.deletionTimestamp) - ctx.now)})`);
    w.line(0, 'Termination Grace Period:', `${pod.metadata.deletionGracePeriodSeconds ?? 0}s`);
  } else {
    w.line(0, 'Status:', st.phase ?? '');
  }
  if (st.reason) w.line(0, 'Reason:', st.reason);
  if (st.message) w.line(0, 'Message:', st.message);
  w.line(0, 'IP:', st.podIP ?? '');
  if (!st.podIPs?.length) w.line(0, 'IPs:', '<none>');
  else {
    w.line(0, 'IPs:');
    for (const ip of st.podIPs) w.line(1, 'IP:', ip.ip);
  }
  const owner = controlledBy(pod);
  if (owner) w.line(0, 'Controlled By:', owner);
  w.line(0, 'Containers:');
  for (const c of pod.spec.containers) describeContainer(w, 1, c, st.containerStatuses?.find((s) => s.name === c.name), true);
  if (st.conditions?.length) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type', 'Status');
    for (const c of st.conditions) w.line(1, c.type, c.status);
  }
  w.line(0, 'Volumes:', '<none>');
  w.line(0, 'QoS Class:', st.qosClass ?? 'BestEffort');
  w.map(0, 'Node-Selectors', pod.spec.nodeSelector);
  const tolerations = (pod.spec.tolerations ?? []).map((t) => `${t.key ?? ''}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}${t.effect ? `:${t.effect}` : ''}`);
  if (tolerations.length === 0) w.line(0, 'Tolerations:', '<none>');
  else tolerations.forEach((t, i) => w.line(0, i === 0 ? 'Tolerations:' : '', t));
  w.raw(eventsSection(await eventsFor(ctx.client, pod), ctx.now));
  return w.toString();
}
