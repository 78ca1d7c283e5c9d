// `kubernetes [ZONES...] { namespaces, pods, ttl, endpoint_pod_names, fallthrough, ignore
// empty_service, noendpoints, ... }` as CoreDNS's kubernetes/setup.go reads it.

import { argError, type Directive } from '../../corefile/parse.js';
import type { KubernetesOptions, PodMode } from '../../kubernetes/zone.js';
import { reverseZoneOfCidr } from '../../wire/ip.js';

export interface KubernetesConfig extends KubernetesOptions {
  /** zones whose NXDOMAIN goes to the next plugin; undefined = no fallthrough */
  fallthrough?: string[];
  noEndpoints: boolean;
}

/** A Corefile zone argument as an absolute lower-case zone; CIDRs become their reverse zone. */
export function normalizeZone(d: Directive, arg: string): string {
  if (arg.includes('/')) {
    const z = reverseZoneOfCidr(arg);
    if (!z) throw argError(d, `unsupported CIDR zone '${arg}' (use a prefix length on an octet/nibble boundary)`);
    return z;
  }
  return arg === '.' ? '.' : `${arg.replace(/\.$/, '').toLowerCase()}.`;
}

// Options CoreDNS accepts that make no difference against a kemu API.
const ACCEPTED_WITHOUT_EFFECT = new Set(['endpoint', 'tls', 'kubeconfig', 'labels', 'namespace_labels', 'startup_timeout', 'multicluster']);

export function parseKubernetes(d: Directive, serverZones: string[], localIPs: string[]): KubernetesConfig {
  const zones = d.args.length ? d.args.map((a) => normalizeZone(d, a)) : [...serverZones];
  const cfg: KubernetesConfig = {
    zones, namespaces: [], pods: 'disabled', ttl: 5, endpointPodNames: false, ignoreEmptyService: false, localIPs, noEndpoints: false,
  };
  for (const o of d.block) {
    switch (o.name) {
      case 'namespaces':
        if (o.args.length === 0) throw argError(o, 'namespaces needs at least one namespace');
        cfg.namespaces = o.args;
        break;
      case 'pods':
        if (o.args.length !== 1 || !['disabled', 'insecure', 'verified'].includes(o.args[0]!)) throw argError(o, `wrong value for pods: ${o.args.join(' ')}, must be one of: disabled, verified, insecure`);
        cfg.pods = o.args[0] as PodMode;
        break;
      case 'ttl': {
        const ttl = Number(o.args[0]);
        if (o.args.length !== 1 || !Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw argError(o, `ttl must be in range [0, 3600]: ${o.args.join(' ')}`);
        cfg.ttl = ttl;
        break;
      }
      case 'endpoint_pod_names':
        cfg.endpointPodNames = true;
        break;
      case 'noendpoints':
        cfg.noEndpoints = true;
        break;
      case 'fallthrough':
        cfg.fallthrough = o.args.length ? o.args.map((a) => normalizeZone(o, a)) : ['.'];
        break;
      case 'ignore':
        if (o.args[0] !== 'empty_service') throw argError(o, `unable to parse ignore value: '${o.args.join(' ')}'`);
        cfg.ignoreEmptyService = true;
        break;
      default:
        if (!ACCEPTED_WITHOUT_EFFECT.has(o.name)) throw argError(o, `unknown property '${o.name}'`);
    }
  }
  return cfg;
}
