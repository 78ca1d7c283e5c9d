// forward: sends the query to an upstream (over the client's transport, or TCP when a UDP answer
// came back truncated), fails over between upstreams, marks an upstream down after max_fails
// errors and health-checks it (`. IN NS`) until it answers again. When nobody answers in time the
// client gets SERVFAIL and the log says why; a query never hangs.

import { randomInt } from 'node:crypto';
import { exchangeTcp, exchangeUdp, type Upstream } from '../../exchange.js';
import { decodeMessage, encodeMessage } from '../../wire/codec.js';
import { CLASS_IN, emptyFlags, isSubdomain, RCODE, TYPE, typeName, type Message } from '../../wire/message.js';
import { reply, type DnsRequest, type Next, type Plugin, type Reply, type SetupContext } from '../../plugin.js';
import type { Directive } from '../../corefile/parse.js';
import { parseForward, type ForwardConfig } from './setup.js';

const READ_TIMEOUT_MS = 2000;
const TOTAL_TIMEOUT_MS = 5000;

interface UpstreamState extends Upstream {
  fails: number;
  checking: NodeJS.Timeout | undefined;
}

export class ForwardPlugin implements Plugin {
  readonly name = 'forward';
  private readonly upstreams: UpstreamState[];
  private inFlight = 0;
  private next = 0;

  constructor(
    private readonly cfg: ForwardConfig,
    private readonly ctx: SetupContext,
  ) {
    this.upstreams = cfg.upstreams.map((u) => ({ ...u, fails: 0, checking: undefined }));
  }

  async stop(): Promise<void> {
    for (const u of this.upstreams) clearInterval(u.checking);
  }

  private order(): UpstreamState[] {
    const list = [...this.upstreams];
    if (this.cfg.policy === 'random') {
      for (let i = list.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
    } else if (this.cfg.policy === 'round_robin') {
      const start = this.next++ % list.length;
      list.push(...list.splice(0, start));
    }
    const healthy = list.filter((u) => !this.isDown(u));
    // all down: try them anyway, as CoreDNS does
    return healthy.length > 0 ? healthy : list;
  }

  private isDown(u: UpstreamState): boolean {
    return this.cfg.maxFails > 0 && u.fails >= this.cfg.maxFails;
  }

  private failed(u: UpstreamState): void {
    u.fails++;
    if (!this.isDown(u) || u.checking) return;
    u.checking = setInterval(() => void this.healthCheck(u), this.cfg.healthCheckMs);
    u.checking.unref();
  }

  private async healthCheck(u: UpstreamState): Promise<void> {
    const probe: Message = {
      id: randomInt(65536), flags: { ...emptyFlags(), rd: true }, rcode: 0, question: [{ name: '.', type: TYPE.NS, class: CLASS_IN }], answer: [], authority: [], additional: [],
    };
    try {
      await exchangeUdp(u, encodeMessage(probe), READ_TIMEOUT_MS);
      u.fails = 0;
      clearInterval(u.checking);
      u.checking = undefined;
    } catch {
      this.ctx.env.metrics.inc('coredns_proxy_healthcheck_failures_total', 'Count of failed health checks per upstream.', { proxy_name: 'forward', to: `${u.host}:${u.port}` });
    }
  }

  private async ask(u: UpstreamState, query: Buffer, proto: 'udp' | 'tcp'): Promise<Buffer> {
    if (proto === 'tcp') return exchangeTcp(u, query, READ_TIMEOUT_MS);
    const answer = await exchangeUdp(u, query, READ_TIMEOUT_MS);
    const truncated = answer.length > 2 && (answer[2]! & 0x02) !== 0;
    if (!truncated || this.cfg.preferUdp) return answer;
    try {
      return await exchangeTcp(u, query, READ_TIMEOUT_MS);
    } catch {
      return answer; // the truncated answer is still an answer
    }
  }

  async serve(req: DnsRequest, next: Next): Promise<Reply> {
    const qname = req.question.name;
    if (!isSubdomain(qname, this.cfg.from) || this.cfg.except.some((z) => isSubdomain(qname, z))) return next(req);
    if (this.cfg.maxConcurrent > 0 && this.inFlight >= this.cfg.maxConcurrent) {
      this.ctx.env.metrics.inc('coredns_forward_max_concurrent_rejects_total', 'Counter of the number of queries rejected because the concurrent queries were at maximum.');
      return reply(this.name, RCODE.REFUSED);
    }
    this.inFlight++;
    try {
      return await this.forward(req);
    } finally {
      this.inFlight--;
    }
  }

  private async forward(req: DnsRequest): Promise<Reply> {
    const query: Message = {
      id: randomInt(65536), flags: { ...emptyFlags(), rd: true }, rcode: 0, question: [req.question], answer: [], authority: [], additional: [],
      ...(req.udpSize > 0 ? { edns: { udpSize: req.udpSize, extRcode: 0, version: 0, do: req.do, options: [] } } : {}),
    };
    const wire = encodeMessage(query);
    const proto = this.cfg.forceTcp ? 'tcp' : this.cfg.preferUdp ? 'udp' : req.proto;
    const deadline = Date.now() + TOTAL_TIMEOUT_MS;
    let lastError = 'no upstream tried';
    for (const u of this.order()) {
      if (Date.now() >= deadline) break;
      const started = process.hrtime.bigint();
      try {
        const m = decodeMessage(await this.ask(u, wire, proto));
        if (m.id !== query.id) throw new Error('answer with a different id');
        u.fails = 0;
        this.ctx.env.metrics.observe('coredns_proxy_request_duration_seconds', 'Histogram of the time each request took.', [0.00025, 0.001, 0.004, 0.016, 0.064, 0.256, 1.024, 4.096], { proxy_name: 'forward', to: `${u.host}:${u.port}`, rcode: String(m.rcode) }, Number(process.hrtime.bigint() - started) / 1e9);
        return reply(this.name, m.rcode, { aa: m.flags.aa, tc: m.flags.tc, ra: m.flags.ra, answer: m.answer, authority: m.authority, additional: m.additional });
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        this.failed(u);
      }
    }
    this.ctx.log.error(`[ERROR] plugin/errors: 2 ${req.question.name} ${typeName(req.question.type)}: ${lastError}`);
    return reply(this.name, RCODE.SERVFAIL);
  }
}

export function setupForward(d: Directive, ctx: SetupContext): Plugin {
  return new ForwardPlugin(parseForward(d), ctx);
}
