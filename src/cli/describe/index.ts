// Which describer serves which resource type.

import type { ResourceType } from '../../api/resources.js';
import type { Describer } from './context.js';
import { describeDeployment } from './deployment.js';
import { describeEndpointSlice } from './endpointslice.js';
import { describeGeneric } from './generic.js';
import { describeIngress } from './ingress.js';
import { describeNode } from './node.js';
import { describePod } from './pod.js';
import { describeService } from './service.js';

const BY_PLURAL: Record<string, Describer> = {
  pods: describePod,
  services: describeService,
  deployments: describeDeployment,
  nodes: describeNode,
  endpointslices: describeEndpointSlice,
  ingresses: describeIngress,
};

export function describerFor(r: ResourceType): Describer {
  return BY_PLURAL[r.plural] ?? describeGeneric;
}
