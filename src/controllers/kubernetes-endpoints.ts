// The `kubernetes` Service has no selector: kube-apiserver itself keeps its EndpointSlice pointing
// at the API server's address (the "master endpoint reconciler"). kemu's control plane does the
// same from here: one slice, default/kubernetes, with the https port.

import type { Client } from '../api/client.js';
import type { EndpointSlice } from '../api/types.js';
import { isApiError } from '../api/errors.js';
import { SERVICE_NAME_LABEL } from './endpointslice-plan.js';
import type { SharedInformers } from './informers.js';
import { ENDPOINT_SLICES } from './kinds.js';
import { LoopController, type LoopOptions } from './loop-controller.js';
import { canonicalJson } from './pod-template-hash.js';

export const API_SERVER_PORT = 6443;
const KEY = 'default/kubernetes';

export function kubernetesEndpointSlice(address: string, port = API_SERVER_PORT): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { [SERVICE_NAME_LABEL]: 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
}

export class KubernetesEndpointsReconciler extends LoopController {
  private readonly slices;

  constructor(
    private readonly client: Client,
    informers: SharedInformers,
    private readonly address: string,
    opts: LoopOptions = {},
  ) {
    super('kubernetes-endpoints', opts);
    this.slices = informers.for<EndpointSlice>(ENDPOINT_SLICES);
    const onSlice = (s: EndpointSlice) => {
      if (s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes') this.loop.enqueue(KEY);
    };
    this.slices.addHandler({ onUpdate: (_o, s) => onSlice(s), onDelete: onSlice });
  }

  protected keys(): string[] {
    return [KEY];
  }

  /** One key only: KEY. */
  protected async sync(): Promise<void> {
    const want = kubernetesEndpointSlice(this.address);
    const have = this.slices.get('default', 'kubernetes');
    if (!have) {
      await this.client.create(ENDPOINT_SLICES, 'default', want).catch((e: unknown) => {
        if (!(isApiError(e) && e.code === 409)) throw e; // already there, the cache lags
      });
      return;
    }
    const same = (s: EndpointSlice) => canonicalJson([s.metadata.labels, s.addressType, s.endpoints, s.ports]);
    if (same(have) !== same(want)) {
      await this.client.update(ENDPOINT_SLICES, 'default', { ...have, metadata: { ...have.metadata, labels: want.metadata.labels }, addressType: want.addressType, endpoints: want.endpoints, ports: want.ports });
    }
  }
}
