// The `kubernetes` Service has no selector: kube-apiserver itself keeps its EndpointSlice pointing
// at the API server's address (the "master endpoint reconciler"). kemu's control plane does the
// same from here: one slice, default/kubernetes, with the https port.

import type { Client } from '../api/client.js';
import type { EndpointSlice } from '../api/types.js';
import { isApiError } from '../api/errors.js';
import { ControllerLoop, logReconcileError, type Controller } from './controller.js';
import { SERVICE_NAME_LABEL } from './endpointslice-plan.js';
import type { SharedInformers } from './informers.js';
import { ENDPOINT_SLICES } from './kinds.js';
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

export class KubernetesEndpointsReconciler implements Controller {
  private readonly loop: ControllerLoop;
  private readonly slices;

  constructor(
    private readonly client: Client,
    informers: SharedInformers,
    private readonly address: string,
    opts: { resyncMs?: number } = {},
  ) {
    this.slices = informers.for<EndpointSlice>(ENDPOINT_SLICES);
    this.loop = new ControllerLoop({ name: 'kubernetes-endpoints', reconcile: () => this.sync(), listKeys: () => [KEY], onError: logReconcileError, ...opts });
    const onSlice = (s: EndpointSlice) => {
      if (s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes') this.loop.enqueue(KEY);
    };
    this.slices.addHandler({ onUpdate: (_o, s) => onSlice(s), onDelete: onSlice });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async sync(): Promise<void> {
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
