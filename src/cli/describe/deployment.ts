// kemu describe deployment

import { formatLabelSelector, matchesSelector, selectorFromLabelSelector } from '../../api/labels.js';
import { RESOURCES } from '../../api/resources.js';
import type { Deployment, KubeObject, ReplicaSet } from '../../api/types.js';
import { formatLabels } from '../printers/format.js';
import { describeContainer } from './container.js';
import type { DescribeContext } from './context.js';
import { eventsFor, eventsSection } from './events.js';
import { describeTime, DescribeWriter } from './writer.js';

const REPLICA_SETS = RESOURCES.find((r) => r.plural === 'replicasets')!;

function replicaSetLine(rs: ReplicaSet): string {
  return `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec.replicas ?? 0} replicas created)`;
}

export async function describeDeployment(obj: KubeObject, ctx: DescribeContext): Promise<string> {
  const d = obj as Deployment;
  const st = d.status ?? {};
  const w = new DescribeWriter();
  w.line(0, 'Name:', d.metadata.name ?? '');
  w.line(0, 'Namespace:', d.metadata.namespace ?? '');
  w.line(0, 'CreationTimestamp:', describeTime(d.metadata.creationTimestamp));
  w.map(0, 'Labels', d.metadata.labels);
  w.annotations(d);
  w.line(0, 'Selector:', formatLabelSelector(d.spec.selector) || '<none>');
  const unavailable = st.unavailableReplicas ?? 0;
  w.line(0, 'Replicas:', `${d.spec.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${unavailable} unavailable`);
  const strategy = d.spec.strategy?.type ?? 'RollingUpdate';
  w.line(0, 'StrategyType:', strategy);
  w.line(0, 'MinReadySeconds:', String(d.spec.minReadySeconds ?? 0));
  if (strategy === 'RollingUpdate') {
    const ru = d.spec.strategy?.rollingUpdate;
    w.line(0, 'RollingUpdateStrategy:', `${ru?.maxUnavailable ?? '25%'} max unavailable, ${ru?.maxSurge ?? '25%'} max surge`);
  }
  w.line(0, 'Pod Template:');
  w.line(1, 'Labels:', formatLabels(d.spec.template.metadata?.labels));
  w.line(1, 'Containers:');
  for (const c of d.spec.template.spec.containers) describeContainer(w, 2, c, undefined, false);
  w.line(1, 'Volumes:', '<none>');
  w.line(1, 'Node-Selectors:', formatLabels(d.spec.template.spec.nodeSelector));
  w.line(1, 'Tolerations:', '<none>');
  if (st.conditions?.length) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type', 'Status', 'Reason');
    w.line(1, '----', '------', '------');
    for (const c of st.conditions) w.line(1, c.type, c.status, c.reason ?? '');
  }
  const selector = selectorFromLabelSelector(d.spec.selector);
  const owned = (await ctx.client.list<ReplicaSet>(REPLICA_SETS, d.metadata.namespace)).items.filter(
    (rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid) && matchesSelector(rs.metadata.labels, selector),
  );
  const hash = (o: KubeObject | undefined): string | undefined => o?.metadata.labels?.['pod-template-hash'];
  const templateHash = d.spec.template.metadata?.labels?.['pod-template-hash'];
  // The newest ReplicaSet is the one whose template matches; without a hash to compare, the newest by creation.
  const byAge = [...owned].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
  const newest = byAge.find((rs) => templateHash && hash(rs) === templateHash) ?? byAge[byAge.length - 1];
  const old = owned.filter((rs) => rs !== newest && (rs.spec.replicas ?? 0) > 0);
  w.line(0, 'OldReplicaSets:', old.length ? old.map(replicaSetLine).join(', ') : '<none>');
  w.line(0, 'NewReplicaSet:', newest ? replicaSetLine(newest) : '<none>');
  w.raw(eventsSection(await eventsFor(ctx.client, d), ctx.now));
  return w.toString();
}
