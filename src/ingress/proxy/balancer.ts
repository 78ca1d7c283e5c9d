// One service's load balancer: weighted round robin by earliest deadline first (Traefik's wrr:
// pick the smallest deadline, advance it by 1/weight; equal weights give plain rotation), sticky
// cookies, and server health from active checks and passive failure counting. Fenced servers
// (terminating endpoints) get only sticky traffic.

import { createHash } from 'node:crypto';
import { parseGoDuration } from './durations.js';
import type { LoadBalancerConfig, ServerConfig, StickyCookie } from '../config/types.js';

interface ServerState {
  config: ServerConfig;
  weight: number;
  deadline: number;
  /** from active health checks */
  up: boolean;
  /** passive health: failure times inside the window */
  failures: number[];
  cookieValue: string;
}

export interface Pick {
  server: ServerConfig;
  /** a Set-Cookie value to add to the response, when the cookie had to be (re)issued */
  setCookie?: string;
}

export function stickyCookieName(serviceName: string, configured: string | undefined): string {
  if (configured) return configured.replace(/[^!#$%&'*+\-.^_`|~0-9A-Za-z]/g, '_');
  return '_' + createHash('sha1').update('_TRAEFIK_BACKEND_' + serviceName).digest('hex').slice(0, 5);
}

export function stickyCookieValue(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

function cookieAttributes(name: string, value: string, c: StickyCookie): string {
  const parts = [`${name}=${value}`, `Path=${c.path ?? '/'}`];
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (c.maxAge && c.maxAge > 0) parts.push(`Max-Age=${c.maxAge}`);
  if (c.maxAge && c.maxAge < 0) parts.push('Max-Age=0');
  if (c.httpOnly) parts.push('HttpOnly');
  if (c.secure) parts.push('Secure');
  if (c.sameSite) parts.push(`SameSite=${c.sameSite[0]!.toUpperCase()}${c.sameSite.slice(1)}`);
  return parts.join('; ');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class LoadBalancer {
  private servers: ServerState[];
  private readonly cookieName: string | undefined;
  private readonly failureWindowMs: number;
  /** the deadline of the last pick: where a server coming back re-enters the schedule */
  private currentDeadline = 0;
  private readonly maxFailures: number;

  constructor(
    readonly serviceName: string,
    private readonly config: LoadBalancerConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.servers = config.servers.map((s) => ({ config: s, weight: s.weight ?? 1, deadline: 0, up: true, failures: [], cookieValue: stickyCookieValue(s.url) }));
    for (const s of this.servers) s.deadline = 1 / s.weight;
    this.cookieName = config.sticky ? stickyCookieName(serviceName, config.sticky.cookie.name) : undefined;
    const passive = config.passiveHealthCheck;
    this.failureWindowMs = passive ? parseGoDuration(passive.failureWindow ?? '10s') : 0;
    this.maxFailures = passive ? (passive.maxFailedAttempts ?? 1) : 0;
  }

  get urls(): string[] {
    return this.servers.map((s) => s.config.url);
  }

  /** Keeps health state of servers that stay when the same service is rebuilt. */
  adoptStateFrom(previous: LoadBalancer | undefined): void {
    if (!previous) return;
    for (const s of this.servers) {
      const old = previous.servers.find((o) => o.config.url === s.config.url);
      if (old) {
        s.up = old.up;
        s.failures = old.failures;
      }
    }
  }

  private healthy(s: ServerState): boolean {
    if (!s.up) return false;
    if (!this.maxFailures) return true;
    const since = this.now() - this.failureWindowMs;
    s.failures = s.failures.filter((t) => t >= since);
    return s.failures.length < this.maxFailures;
  }

  /** The next server, or undefined when none is available (503). */
  pick(cookieHeader?: string): Pick | undefined {
    if (this.cookieName && this.config.sticky) {
      const value = readCookie(cookieHeader, this.cookieName);
      const pinned = value && this.servers.find((s) => s.cookieValue === value && this.healthy(s));
      if (pinned) return { server: pinned.config };
    }
    let best: ServerState | undefined;
    for (const s of this.servers) {
      if (s.config.fenced || !this.healthy(s)) continue;
      if (!best || s.deadline < best.deadline) best = s;
    }
    if (!best) return undefined;
    this.currentDeadline = best.deadline;
    best.deadline += 1 / best.weight;
    const pick: Pick = { server: best.config };
    if (this.cookieName && this.config.sticky) pick.setCookie = cookieAttributes(this.cookieName, best.cookieValue, this.config.sticky.cookie);
    return pick;
  }

  setUp(url: string, up: boolean): void {
    const s = this.servers.find((x) => x.config.url === url);
    if (!s) return;
    // a server coming back must not catch up on the picks it missed
    if (up && !s.up) s.deadline = this.currentDeadline + 1 / s.weight;
    s.up = up;
  }

  isUp(url: string): boolean {
    const s = this.servers.find((x) => x.config.url === url);
    return s ? this.healthy(s) : false;
  }

  /** Passive health: a connection error or 5xx-free failure toward this server. */
  recordFailure(url: string): void {
    if (!this.maxFailures) return;
    this.servers.find((x) => x.config.url === url)?.failures.push(this.now());
  }
}
