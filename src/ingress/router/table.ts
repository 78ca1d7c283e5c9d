// The routing table: the routers of one configuration compiled and ordered, per entrypoint.
// Order is priority descending (0 means the rule's length, as Traefik), ties in configuration
// order; the first router whose rule matches wins. Routers whose rule does not compile, or that
// name a service or middleware that does not exist, are left out and reported with the reason.

import type { DynamicConfig, RouterConfig } from '../config/types.js';
import { compileRule, type Predicate, type RouteRequest } from './matchers.js';

export interface CompiledRouter {
  config: RouterConfig;
  priority: number;
  matches: Predicate;
}

export interface EntryPointInfo {
  name: string;
  tls: boolean;
}

export function effectivePriority(r: RouterConfig): number {
  return r.priority !== 0 ? r.priority : r.rule.length;
}

export class RouteTable {
  private readonly byEntryPoint = new Map<string, CompiledRouter[]>();
  /** router name -> why it is disabled */
  readonly errors = new Map<string, string>();

  constructor(config: DynamicConfig, entryPoints: readonly EntryPointInfo[]) {
    const services = new Set(config.services.map((s) => s.name));
    const middlewares = new Set(config.middlewares.map((m) => m.name));
    const compiled: CompiledRouter[] = [];
    for (const r of config.routers) {
      try {
        if (!services.has(r.service)) throw new Error(`the service "${r.service}" does not exist`);
        const missing = r.middlewares.find((m) => !middlewares.has(m));
        if (missing) throw new Error(`middleware "${missing}" does not exist`);
        compiled.push({ config: r, priority: effectivePriority(r), matches: compileRule(r.rule) });
      } catch (e) {
        this.errors.set(r.name, (e as Error).message);
      }
    }
    // Array.prototype.sort is stable: equal priorities keep configuration order
    compiled.sort((a, b) => b.priority - a.priority);
    for (const ep of entryPoints) {
      // on a TLS entrypoint every router serves TLS; a plain one takes only routers without tls
      this.byEntryPoint.set(ep.name, compiled.filter((c) => c.config.entryPoints.includes(ep.name) && (ep.tls || !c.config.tls)));
    }
  }

  match(entryPoint: string, req: RouteRequest): CompiledRouter | undefined {
    return this.byEntryPoint.get(entryPoint)?.find((c) => c.matches(req));
  }

  routers(entryPoint: string): readonly CompiledRouter[] {
    return this.byEntryPoint.get(entryPoint) ?? [];
  }
}
