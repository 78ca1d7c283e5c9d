// The front every mode's proxier shares (upstream: each Proxier's OnService* / OnEndpointSlice*
// handlers): informer events go into the Service and EndpointSlice change trackers, and are counted
// as upstream's service/endpoint change totals. Each mode's sync then reads the trackers' update().

import type { IPFamily } from '../api/ip.js';
import type { EndpointSlice, Service } from '../api/types.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from './change-tracker.js';
import type { ChangeCounters } from './metrics.js';

export abstract class TrackingProxier {
  protected readonly services: ServiceChangeTracker;
  protected readonly endpoints: EndpointsChangeTracker;
  protected readonly changeCounters: ChangeCounters = { sync_proxy_rules_service_changes_total: 0, sync_proxy_rules_endpoint_changes_total: 0 };

  constructor(ipFamily: IPFamily, nodeName: string) {
    this.services = new ServiceChangeTracker(ipFamily);
    this.endpoints = new EndpointsChangeTracker(ipFamily, nodeName);
  }

  onServiceAdd(svc: Service): void {
    this.changeCounters.sync_proxy_rules_service_changes_total++;
    this.services.onServiceAdd(svc);
  }

  onServiceUpdate(old: Service, svc: Service): void {
    this.changeCounters.sync_proxy_rules_service_changes_total++;
    this.services.onServiceUpdate(old, svc);
  }

  onServiceDelete(svc: Service): void {
    this.changeCounters.sync_proxy_rules_service_changes_total++;
    this.services.onServiceDelete(svc);
  }

  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.changeCounters.sync_proxy_rules_endpoint_changes_total++;
    this.endpoints.onEndpointSliceAdd(slice);
  }

  onEndpointSliceUpdate(old: EndpointSlice, slice: EndpointSlice): void {
    this.changeCounters.sync_proxy_rules_endpoint_changes_total++;
    this.endpoints.onEndpointSliceUpdate(old, slice);
  }

  onEndpointSliceDelete(slice: EndpointSlice): void {
    this.changeCounters.sync_proxy_rules_endpoint_changes_total++;
    this.endpoints.onEndpointSliceDelete(slice);
  }
}
