// ClusterIPs, NodePorts and health-check NodePorts for Services, as kube-apiserver's service
// registry hands them out (pkg/registry/core/service/storage/alloc.go). An allocation is a small
// transaction: the new values are taken at once, commit() then frees what the old object held and
// the new one no longer does, rollback() gives back what this allocation took.
//
// On update it first carries over allocated values the client left out and drops ones the new type
// no longer uses (prepareServiceUpdate), as upstream's beginUpdate does before validation.

import type { ClusterConfig } from '../cluster.js';
import { externallyAccessible, syncClusterIPs } from '../defaults.js';
import { fieldErrors, GoSyntax, type FieldError } from '../errors.js';
import type { Service } from '../types.js';
import { IPAllocator } from '../../controllers/allocators/ip-allocator.js';
import { PortAllocator } from '../../controllers/allocators/port-allocator.js';
import { deepEqual, goStrings } from '../validation/meta.js';

export interface AllocationResult {
  errors: FieldError[];
  commit(): void;
  rollback(): void;
}

const needsClusterIP = (svc: Service): boolean => svc.spec.type !== 'ExternalName';
const isHeadless = (svc: Service): boolean => svc.spec.clusterIP === 'None' || svc.spec.clusterIPs?.[0] === 'None';
/** Whether ports without a nodePort get one. */
const needsNodePorts = (svc: Service): boolean =>
  svc.spec.type === 'NodePort' || (svc.spec.type === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);
/** Whether nodePorts a user gave are kept at all. */
const keepsNodePorts = (svc: Service): boolean => svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer';
const needsHealthCheck = (svc: Service): boolean => svc.spec.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';

/** The ClusterIPs a Service holds in the allocator. */
function heldIPs(svc: Service): string[] {
  if (!needsClusterIP(svc) || isHeadless(svc)) return [];
  return svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : []);
}

/** Every node port a Service holds: its ports' nodePorts and its healthCheckNodePort. */
function heldPorts(svc: Service): number[] {
  const ports = (svc.spec.ports ?? []).map((p) => p.nodePort ?? 0);
  if (svc.spec.healthCheckNodePort) ports.push(svc.spec.healthCheckNodePort);
  return ports.filter((p) => p > 0);
}

/** Fills values the client omitted on update from the stored object (upstream patchAllocatedValues). */
function patchAllocatedValues(svc: Service, old: Service): void {
  const spec = svc.spec;
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP && old.spec.clusterIP) spec.clusterIP = old.spec.clusterIP;
    if (!spec.clusterIPs?.length && old.spec.clusterIPs?.length) spec.clusterIPs = [...old.spec.clusterIPs];
  }
  if (keepsNodePorts(old) && keepsNodePorts(svc)) {
    const usedByBoth = new Set(heldPorts(svc).filter((p) => heldPorts(old).includes(p)));
    const byName = new Map((old.spec.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    for (const p of spec.ports ?? []) {
      const previous = byName.get(p.name ?? '') ?? 0;
      if (!p.nodePort && previous && !usedByBoth.has(previous)) p.nodePort = previous;
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(svc) && !spec.healthCheckNodePort) spec.healthCheckNodePort = old.spec.healthCheckNodePort;
}

/**
 * Clears values the new type does not use, when the client just left them as they were
 * (upstream dropTypeDependentFields): NodePort -> ClusterIP drops the nodePorts, and so on.
 */
function dropTypeDependentFields(svc: Service, old: Service): void {
  const spec = svc.spec;
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (deepEqual(spec.clusterIPs, old.spec.clusterIPs) && spec.clusterIP === old.spec.clusterIP) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (deepEqual(spec.ipFamilies, old.spec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === old.spec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (keepsNodePorts(old) && !keepsNodePorts(svc)) {
    const oldPorts = heldPorts(old);
    if ((spec.ports ?? []).every((p) => !p.nodePort || oldPorts.includes(p.nodePort))) {
      for (const p of spec.ports ?? []) delete p.nodePort;
    }
  }
  if (needsHealthCheck(old) && !needsHealthCheck(svc) && spec.healthCheckNodePort === old.spec.healthCheckNodePort) {
    delete spec.healthCheckNodePort;
  }
  if (old.spec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === old.spec.allocateLoadBalancerNodePorts) {
    delete spec.allocateLoadBalancerNodePorts;
  }
  if (externallyAccessible(old) && !externallyAccessible(svc) && spec.externalTrafficPolicy === old.spec.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
}

/**
 * An exhausted range. Upstream answers this with a 500 InternalError (`Internal error occurred:
 * failed to allocate a serviceIP: range is full`); the contract carries field errors, so it is one
 * without a value, whose text reads the same after the field name.
 */
const rangeFull = (field: string, what: string): FieldError => ({ type: 'Invalid', field, detail: `${what}: range is full` });

/**
 * What upstream's service registry does to an updated Service before validating it: carry over the
 * allocated values the client left out, drop those the new type does not use, and sync clusterIP
 * with clusterIPs. Idempotent; allocate() runs it too, so callers that validate before allocating
 * call it first (otherwise a PUT without clusterIP reads as "primary clusterIP can not be unset").
 */
export function prepareServiceUpdate(svc: Service, old: Service): void {
  svc.spec ??= {};
  if (old.spec) {
    patchAllocatedValues(svc, old);
    dropTypeDependentFields(svc, old);
  }
  syncClusterIPs(svc.spec);
}

const settled: AllocationResult = { errors: [], commit() {}, rollback() {} };

export class ServiceAllocator {
  private readonly ips: IPAllocator;
  private readonly ports: PortAllocator;

  constructor(config: ClusterConfig, random?: () => number) {
    this.ips = new IPAllocator(config.serviceCIDR, random);
    this.ports = new PortAllocator(config.nodePortRange, random);
  }

  /** Marks what stored Services hold, at server start. Conflicts and strays are left as they are. */
  restore(services: Service[]): void {
    for (const svc of services) {
      if (!svc.spec) continue;
      for (const ip of heldIPs(svc)) this.ips.allocate(ip);
      for (const port of heldPorts(svc)) this.ports.allocate(port);
    }
  }

  allocate(svc: Service, old?: Service): AllocationResult {
    if (old) prepareServiceUpdate(svc, old);
    else syncClusterIPs((svc.spec ??= {}));

    const undo: (() => void)[] = [];
    const errors = [...this.allocateIPs(svc, old, undo), ...this.allocatePorts(svc, old, undo)];
    if (errors.length) {
      for (const u of undo) u();
      return { ...settled, errors };
    }
    let done = false;
    return {
      errors,
      commit: () => {
        if (done) return;
        done = true;
        if (!old?.spec) return;
        const keptIPs = heldIPs(svc);
        for (const ip of heldIPs(old)) if (!keptIPs.includes(ip)) this.ips.release(ip);
        const keptPorts = heldPorts(svc);
        for (const port of heldPorts(old)) if (!keptPorts.includes(port)) this.ports.release(port);
      },
      rollback: () => {
        if (done) return;
        done = true;
        for (const u of undo) u();
      },
    };
  }

  /** Frees everything a deleted Service held. */
  release(svc: Service): void {
    if (!svc.spec) return;
    for (const ip of heldIPs(svc)) this.ips.release(ip);
    for (const port of heldPorts(svc)) this.ports.release(port);
  }

  private allocateIPs(svc: Service, old: Service | undefined, undo: (() => void)[]): FieldError[] {
    const spec = svc.spec;
    if (!needsClusterIP(svc) || isHeadless(svc)) return [];
    const oldIPs = old?.spec ? heldIPs(old) : [];
    const requested = spec.clusterIPs ?? [];
    if (requested.length === 0) {
      const ip = this.ips.allocateNext();
      if (ip === undefined) return [rangeFull('spec.clusterIPs', 'failed to allocate a serviceIP')];
      undo.push(() => this.ips.release(ip));
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      return [];
    }
    for (const ip of requested) {
      if (oldIPs.includes(ip)) continue;
      const err = this.ips.allocate(ip);
      if (err) return [fieldErrors.invalid('spec.clusterIPs', new GoSyntax(goStrings(requested)), `failed to allocate IP ${ip}: ${err}`)];
      undo.push(() => this.ips.release(ip));
    }
    return [];
  }

  private allocatePorts(svc: Service, old: Service | undefined, undo: (() => void)[]): FieldError[] {
    const spec = svc.spec;
    const oldPorts = old?.spec ? heldPorts(old) : [];
    const mine = new Set<number>(); // taken or kept by this allocation
    const take = (port: number): string | undefined => {
      if (mine.has(port) || oldPorts.includes(port)) {
        mine.add(port);
        return undefined;
      }
      const err = this.ports.allocate(port);
      if (err) return err;
      mine.add(port);
      undo.push(() => this.ports.release(port));
      return undefined;
    };
    const takeNext = (): number | undefined => {
      const port = this.ports.allocateNext();
      if (port !== undefined) {
        mine.add(port);
        undo.push(() => this.ports.release(port));
      }
      return port;
    };

    if (keepsNodePorts(svc)) {
      // Ports with the same number (53/TCP and 53/UDP) share one nodePort, as upstream.
      const byServicePort = new Map<number, number>();
      const ports = spec.ports ?? [];
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i];
        if (p.nodePort) {
          const err = take(p.nodePort);
          if (err) return [fieldErrors.invalid(`spec.ports[${i}].nodePort`, p.nodePort, err)];
        } else if (needsNodePorts(svc)) {
          const shared = byServicePort.get(p.port) ?? ports.find((q) => q.port === p.port && q.nodePort)?.nodePort;
          if (shared !== undefined) {
            const err = take(shared);
            if (err) return [fieldErrors.invalid(`spec.ports[${i}].nodePort`, shared, err)];
            p.nodePort = shared;
          } else {
            const port = takeNext();
            if (port === undefined) return [rangeFull(`spec.ports[${i}].nodePort`, 'failed to allocate a nodePort')];
            p.nodePort = port;
          }
        }
        if (p.nodePort) byServicePort.set(p.port, p.nodePort);
      }
    }

    if (needsHealthCheck(svc)) {
      const requested = spec.healthCheckNodePort;
      if (requested) {
        const err = take(requested);
        if (err) {
          return [fieldErrors.invalid('spec.healthCheckNodePort', requested, `failed to allocate requested HealthCheck NodePort ${requested}: ${err}`)];
        }
      } else {
        const port = takeNext();
        if (port === undefined) return [rangeFull('spec.healthCheckNodePort', 'failed to allocate a HealthCheck NodePort')];
        spec.healthCheckNodePort = port;
      }
    }
    return [];
  }
}
