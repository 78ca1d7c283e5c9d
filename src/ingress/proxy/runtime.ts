// One configuration made runnable: the route table per entrypoint, a load balancer per service
// (health state carried over from the previous runtime for servers that stay), and for every
// router its middleware chain ending in its service. The proxy swaps whole runtimes; requests in
// flight finish on the one they started with.

import type { DynamicConfig, RouterConfig } from '../config/types.js';
import { buildMiddleware, type MiddlewareHooks } from '../middlewares/index.js';
import { RouteTable, type EntryPointInfo } from '../router/table.js';
import { LoadBalancer } from './balancer.js';
import { reply, UpstreamConnectError, type MiddlewareHandler, type Next, type ProxyContext } from './context.js';
import { HealthChecker } from './health.js';
import { forwardUpgrade } from './upgrade.js';
import { forward, type UpstreamPools } from './upstream.js';

export interface RuntimeDeps {
  pools: UpstreamPools;
  hooks: MiddlewareHooks;
  onServerHealth(service: string, url: string, up: boolean): void;
}

export class Runtime {
  readonly table: RouteTable;
  readonly balancers = new Map<string, LoadBalancer>();
  private readonly chains = new Map<string, Next>();
  /** services with passHostHeader off: their upstream requests carry no client Host */
  private readonly hostDropping = new Set<string>();
  private readonly checkers: HealthChecker[] = [];
  /** name -> why it is disabled (routers and middlewares) */
  readonly errors = new Map<string, string>();

  constructor(
    readonly config: DynamicConfig,
    entryPoints: readonly EntryPointInfo[],
    private readonly deps: RuntimeDeps,
    previous?: Runtime,
  ) {
    this.table = new RouteTable(config, entryPoints);
    for (const [k, v] of this.table.errors) this.errors.set(k, v);
    for (const s of config.services) {
      const lb = new LoadBalancer(s.name, s.loadBalancer);
      lb.adoptStateFrom(previous?.balancers.get(s.name));
      this.balancers.set(s.name, lb);
      if (!s.loadBalancer.passHostHeader) this.hostDropping.add(s.name);
    }
    for (const r of config.routers) {
      if (this.errors.has(r.name)) continue;
      try {
        this.chains.set(r.name, this.chain(r));
      } catch (e) {
        this.errors.set(r.name, (e as Error).message);
      }
    }
  }

  /** Starts active health checks; the previous runtime's checkers must be stopped by the caller. */
  start(): void {
    for (const s of this.config.services) {
      const hc = s.loadBalancer.healthCheck;
      const lb = this.balancers.get(s.name)!;
      if (!hc || lb.urls.length === 0) continue;
      const checker = new HealthChecker(lb.urls, hc, (url, up) => {
        lb.setUp(url, up);
        this.deps.onServerHealth(s.name, url, up);
      });
      checker.start();
      this.checkers.push(checker);
    }
  }

  stop(): void {
    for (const c of this.checkers) c.stop();
  }

  origins(): Set<string> {
    const out = new Set<string>();
    for (const lb of this.balancers.values()) for (const u of lb.urls) out.add(new URL(u).origin);
    return out;
  }

  handlerFor(router: RouterConfig): Next | undefined {
    return this.chains.get(router.name);
  }

  passesHostHeader(service: string): boolean {
    return !this.hostDropping.has(service);
  }

  private chain(r: RouterConfig): Next {
    const handlers: MiddlewareHandler[] = r.middlewares.map((name) => {
      const m = this.config.middlewares.find((x) => x.name === name)!;
      return buildMiddleware(m, this.deps.hooks);
    });
    const service = this.serviceHandler(r.service);
    return handlers.reduceRight<Next>((next, h) => (ctx) => h(ctx, next), service);
  }

  private serviceHandler(name: string): Next {
    const lb = this.balancers.get(name)!;
    return async (ctx: ProxyContext) => {
      const pick = lb.pick(ctx.req.headers.cookie);
      if (!pick) {
        reply(ctx, 503, 'no available server');
        return;
      }
      if (pick.setCookie) {
        const cookie = pick.setCookie;
        ctx.onResponseHeaders.push((h) => {
          const prior = h['set-cookie'];
          h['set-cookie'] = prior === undefined ? [cookie] : [...(Array.isArray(prior) ? prior : [String(prior)]), cookie];
        });
      }
      try {
        if (ctx.upgrade) await forwardUpgrade(ctx, pick.server.url);
        else await forward(ctx, pick.server.url, this.deps.pools);
      } catch (e) {
        if (e instanceof UpstreamConnectError) lb.recordFailure(pick.server.url);
        throw e;
      }
    };
  }
}
