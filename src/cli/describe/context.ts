// What a describer gets besides the object: the client for related objects and the clock.

import type { Client } from '../../api/client.js';
import type { KubeObject } from '../../api/types.js';

export interface DescribeContext {
  client: Client;
  now: number;
}

export type Describer = (obj: KubeObject, ctx: DescribeContext) => Promise<string>;
