// kemu describe endpointslice

import type { EndpointSlice, KubeObject } from '../../api/types.js';
import type { DescribeContext } from './context.js';
import { eventsFor, eventsSection } from './events.js';
import { DescribeWriter } from './writer.js';

const unset = (v: unknown): string => (v === undefined || v === null || v === '' ? '<unset>' : String(v));

export async function describeEndpointSlice(obj: KubeObject, ctx: DescribeContext): Promise<string> {
  const s = obj as EndpointSlice;
  const w = new DescribeWriter();
  w.objectHead(s, true);
  w.line(0, 'AddressType:', s.addressType);
  if (!s.ports?.length) w.line(0, 'Ports:', '<unset>');
  else {
    w.line(0, 'Ports:');
    w.line(1, 'Name', 'Port', 'Protocol');
    w.line(1, '----', '----', '--------');
    for (const p of s.ports) w.line(1, unset(p.name), unset(p.port), p.protocol ?? 'TCP');
  }
  if (!s.endpoints?.length) w.line(0, 'Endpoints:', '<none>');
  else {
    w.line(0, 'Endpoints:');
    for (const e of s.endpoints) {
      w.line(1, '- Addresses:', e.addresses.join(','));
      w.line(2, 'Conditions:');
      w.line(3, 'Ready:', unset(e.conditions?.ready));
      w.line(2, 'Hostname:', unset(e.hostname));
      w.line(2, 'TargetRef:', e.targetRef ? `${e.targetRef.kind}/${e.targetRef.name}` : '<unset>');
      w.line(2, 'NodeName:', unset(e.nodeName));
      w.line(2, 'Zone:', unset(e.zone));
    }
  }
  w.raw(eventsSection(await eventsFor(ctx.client, s), ctx.now));
  return w.toString();
}
