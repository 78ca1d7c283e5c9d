// kemu describe node

import { RESOURCES } from '../../api/resources.js';
import type { KubeObject, Node, Pod } from '../../api/types.js';
import { nodeRoles } from '../printers/columns-core.js';
import type { DescribeContext } from './context.js';
import { eventsFor, eventsSection } from './events.js';
import { describeTime, DescribeWriter } from './writer.js';

const PODS = RESOURCES.find((r) => r.plural === 'pods')!;

const SYSTEM_INFO: [string, string][] = [
  ['Machine ID', 'machineID'],
  ['System UUID', 'systemUUID'],
  ['Boot ID', 'bootID'],
  ['Kernel Version', 'kernelVersion'],
  ['OS Image', 'osImage'],
  ['Operating System', 'operatingSystem'],
  ['Architecture', 'architecture'],
  ['Container Runtime Version', 'containerRuntimeVersion'],
  ['Kubelet Version', 'kubeletVersion'],
  ['Kube-Proxy Version', 'kubeProxyVersion'],
];

export async function describeNode(obj: KubeObject, ctx: DescribeContext): Promise<string> {
  const node = obj as Node;
  const st = node.status ?? {};
  const w = new DescribeWriter();
  w.line(0, 'Name:', node.metadata.name ?? '');
  w.line(0, 'Roles:', nodeRoles(node));
  w.map(0, 'Labels', node.metadata.labels);
  w.annotations(node);
  w.line(0, 'CreationTimestamp:', describeTime(node.metadata.creationTimestamp));
  const taints = (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  if (taints.length === 0) w.line(0, 'Taints:', '<none>');
  else taints.forEach((t, i) => w.line(0, i === 0 ? 'Taints:' : '', t));
  w.line(0, 'Unschedulable:', String(node.spec?.unschedulable ?? false));
  if (st.conditions?.length) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message');
    w.line(1, '----', '------', '-----------------', '------------------', '------', '-------');
    for (const c of st.conditions) {
      w.line(1, c.type, c.status, describeTime(c.lastHeartbeatTime), describeTime(c.lastTransitionTime), c.reason ?? '', c.message ?? '');
    }
  }
  w.line(0, 'Addresses:');
  for (const a of st.addresses ?? []) w.line(1, `${a.type}:`, a.address);
  for (const [title, m] of [['Capacity', st.capacity], ['Allocatable', st.allocatable]] as const) {
    if (!m) continue;
    w.line(0, `${title}:`);
    for (const k of Object.keys(m).sort()) w.line(1, `${k}:`, m[k]);
  }
  if (st.nodeInfo) {
    w.line(0, 'System Info:');
    for (const [title, key] of SYSTEM_INFO) if (st.nodeInfo[key] !== undefined) w.line(1, `${title}:`, st.nodeInfo[key]);
  }
  if (node.spec?.podCIDR) w.line(0, 'PodCIDR:', node.spec.podCIDR);
  if (node.spec?.podCIDRs?.length) w.line(0, 'PodCIDRs:', node.spec.podCIDRs.join(','));
  const pods = (await ctx.client.list<Pod>(PODS, undefined)).items.filter(
    (p) => p.spec.nodeName === node.metadata.name && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
  );
  w.line(0, `Non-terminated Pods:`, `(${pods.length} in total)`);
  if (pods.length > 0) {
    w.line(1, 'Namespace', 'Name');
    w.line(1, '---------', '----');
    for (const p of pods) w.line(1, p.metadata.namespace ?? '', p.metadata.name ?? '');
  }
  w.raw(eventsSection(await eventsFor(ctx.client, node), ctx.now));
  return w.toString();
}
