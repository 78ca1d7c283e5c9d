// Active health checks: every interval, each server of a service with a healthCheck gets a request
// to its path; 2xx/3xx (or exactly the configured status) keeps it in rotation, anything else or
// no answer within the timeout takes it out until a check passes again.

import http from 'node:http';
import type { HealthCheckConfig } from '../config/types.js';
import { parseGoDuration } from './durations.js';

export type HealthReport = (url: string, up: boolean) => void;

export function probe(serverUrl: string, hc: HealthCheckConfig): Promise<boolean> {
  const url = new URL(hc.path, serverUrl);
  const timeout = parseGoDuration(hc.timeout ?? '5s');
  return new Promise((resolve) => {
    const req = http.request(url, { method: hc.method ?? 'GET', headers: { ...hc.headers, ...(hc.hostname ? { host: hc.hostname } : {}) }, agent: false, timeout }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(hc.status ? code === hc.status : code >= 200 && code < 400);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** Checks the servers until stopped; the first round runs at once. */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly urls: readonly string[],
    private readonly hc: HealthCheckConfig,
    private readonly report: HealthReport,
  ) {}

  start(): void {
    const interval = parseGoDuration(this.hc.interval ?? '30s');
    const round = async (): Promise<void> => {
      const results = await Promise.all(this.urls.map((u) => probe(u, this.hc)));
      if (this.stopped) return;
      results.forEach((up, i) => this.report(this.urls[i]!, up));
      this.timer = setTimeout(() => void round(), interval);
    };
    void round();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
