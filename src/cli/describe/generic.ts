// kemu describe for kinds without a dedicated describer: the head, then the object's other
// top-level fields as YAML, then its events.

import type { KubeObject } from '../../api/types.js';
import { toYaml } from '../printers/output.js';
import type { DescribeContext } from './context.js';
import { eventsFor, eventsSection } from './events.js';
import { DescribeWriter } from './writer.js';

export async function describeGeneric(obj: KubeObject, ctx: DescribeContext): Promise<string> {
  const w = new DescribeWriter();
  w.objectHead(obj, obj.metadata.namespace !== undefined);
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
  for (const [key, value] of Object.entries(rest)) {
    if (value !== null && typeof value === 'object') {
      w.line(0, `${key.charAt(0).toUpperCase()}${key.slice(1)}:`);
      // YAML lines carry no tabs, so the tabwriter leaves them as they are.
      w.raw(toYaml(value).replace(/^(?=.)/gm, '  '));
    } else {
      w.line(0, `${key.charAt(0).toUpperCase()}${key.slice(1)}:`, String(value));
    }
  }
  w.raw(eventsSection(await eventsFor(ctx.client, obj), ctx.now));
  return w.toString();
}
