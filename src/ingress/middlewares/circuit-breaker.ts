// CircuitBreaker: watches the router's recent requests (a 10 s rolling window) and evaluates the
// expression every checkPeriod. States: closed (forward, collect), open (answer responseCode for
// fallbackDuration), recovering (let a linearly growing share through for recoveryDuration; a
// trip there reopens). Expression: NetworkErrorRatio(), ResponseCodeRatio(from,to,dFrom,dTo),
// LatencyAtQuantileMS(q) compared with > < >= <= == != to a number, joined by && and ||.

import type { CircuitBreakerSpec } from '../config/types.js';
import { reply, UpstreamConnectError, type MiddlewareHandler } from '../proxy/context.js';
import { parseGoDuration } from '../proxy/durations.js';

interface Sample {
  at: number;
  status: number;
  networkError: boolean;
  latencyMs: number;
}

type Metric = (samples: readonly Sample[]) => number;
type Condition = (samples: readonly Sample[]) => boolean;

const WINDOW_MS = 10_000;

function metric(name: string, args: number[]): Metric {
  switch (name) {
    case 'NetworkErrorRatio':
      return (s) => (s.length ? s.filter((x) => x.networkError).length / s.length : 0);
    case 'ResponseCodeRatio': {
      const [from, to, dFrom, dTo] = args;
      if (dTo === undefined) throw new Error('ResponseCodeRatio needs 4 arguments');
      return (s) => {
        const d = s.filter((x) => !x.networkError && x.status >= dFrom! && x.status < dTo).length;
        return d ? s.filter((x) => !x.networkError && x.status >= from! && x.status < to!).length / d : 0;
      };
    }
    case 'LatencyAtQuantileMS': {
      const q = args[0] ?? 50;
      return (s) => {
        if (!s.length) return 0;
        const sorted = s.map((x) => x.latencyMs).sort((a, b) => a - b);
        return sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))]!;
      };
    }
    default:
      throw new Error(`circuitBreaker: unknown function ${name}`);
  }
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

export function parseBreakerExpression(expr: string): Condition {
  const alternatives = expr.split('||').map((alt) =>
    alt.split('&&').map((term): Condition => {
      const m = /^\s*(\w+)\(([^)]*)\)\s*(>=|<=|==|!=|>|<)\s*([\d.]+)\s*$/.exec(term);
      if (!m) throw new Error(`circuitBreaker: cannot parse ${JSON.stringify(term.trim())}`);
      const args = m[2]!.split(',').map((a) => a.trim()).filter(Boolean).map(Number);
      const f = metric(m[1]!, args);
      const cmp = COMPARE[m[3]!]!;
      const limit = Number(m[4]);
      return (s) => cmp(f(s), limit);
    }),
  );
  return (s) => alternatives.some((terms) => terms.every((t) => t(s)));
}

export function circuitBreaker(spec: CircuitBreakerSpec, now: () => number = Date.now): MiddlewareHandler {
  const trips = parseBreakerExpression(spec.expression);
  const checkPeriod = parseGoDuration(spec.checkPeriod ?? '100ms');
  const fallback = parseGoDuration(spec.fallbackDuration ?? '10s');
  const recovery = parseGoDuration(spec.recoveryDuration ?? '10s');
  const responseCode = spec.responseCode ?? 503;
  let samples: Sample[] = [];
  let state: 'closed' | 'open' | 'recovering' = 'closed';
  let since = 0;
  let lastCheck = 0;

  const evaluate = (t: number): void => {
    if (state === 'open' && t - since >= fallback) [state, since] = ['recovering', t];
    if (state === 'recovering' && t - since >= recovery) [state, samples] = ['closed', []];
    if (state === 'open' || t - lastCheck < checkPeriod) return;
    lastCheck = t;
    samples = samples.filter((s) => s.at >= t - WINDOW_MS);
    if (trips(samples)) [state, since, samples] = ['open', t, []];
  };

  return async (ctx, next) => {
    const t = now();
    evaluate(t);
    const letThrough = state === 'closed' || (state === 'recovering' && Math.random() < (t - since) / recovery);
    if (!letThrough) {
      reply(ctx, responseCode, 'Service Unavailable');
      return;
    }
    try {
      await next(ctx);
      samples.push({ at: t, status: ctx.res.statusCode, networkError: false, latencyMs: now() - t });
    } catch (e) {
      samples.push({ at: t, status: 0, networkError: e instanceof UpstreamConnectError, latencyMs: now() - t });
      throw e;
    }
  };
}
