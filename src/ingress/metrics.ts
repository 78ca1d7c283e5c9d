// Prometheus metrics with Traefik's names and labels (entrypoint and service families; router
// labels are off by default in Traefik). Counters and histograms keyed by their label values,
// rendered in the text exposition format on /metrics.

const BUCKETS = [0.1, 0.3, 1.2, 5.0];

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Family {
  readonly values = new Map<string, { labels: Labels; value: number; buckets?: number[]; sum?: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}

  private entry(labels: Labels): { labels: Labels; value: number; buckets?: number[]; sum?: number } {
    const key = labelText(labels);
    let e = this.values.get(key);
    if (!e) {
      e = { labels, value: 0, ...(this.type === 'histogram' ? { buckets: BUCKETS.map(() => 0), sum: 0 } : {}) };
      this.values.set(key, e);
    }
    return e;
  }

  add(labels: Labels, by = 1): void {
    this.entry(labels).value += by;
  }

  set(labels: Labels, value: number): void {
    this.entry(labels).value = value;
  }

  observe(labels: Labels, seconds: number): void {
    const e = this.entry(labels);
    e.value += 1;
    e.sum! += seconds;
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) e.buckets![i]! += 1;
    });
  }

  render(): string {
    if (this.values.size === 0) return '';
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
    for (const e of this.values.values()) {
      if (this.type !== 'histogram') {
        out += `${this.name}${labelText(e.labels)} ${e.value}\n`;
        continue;
      }
      BUCKETS.forEach((b, i) => (out += `${this.name}_bucket${labelText({ ...e.labels, le: String(b) })} ${e.buckets![i]}\n`));
      out += `${this.name}_bucket${labelText({ ...e.labels, le: '+Inf' })} ${e.value}\n`;
      out += `${this.name}_sum${labelText(e.labels)} ${e.sum}\n${this.name}_count${labelText(e.labels)} ${e.value}\n`;
    }
    return out;
  }
}

export interface RequestObservation {
  entryPoint: string;
  /** fully qualified service name, when a router matched */
  service?: string;
  code: number;
  method: string;
  protocol: 'http' | 'websocket' | 'sse';
  seconds: number;
  tls?: { version: string; cipher: string };
  requestBytes: number;
  responseBytes: number;
}

export class IngressMetrics {
  readonly configReloads = new Family('traefik_config_reloads_total', 'Config reloads', 'counter');
  readonly lastReloadSuccess = new Family('traefik_config_last_reload_success', 'Last config reload success', 'gauge');
  readonly openConnections = new Family('traefik_open_connections', 'How many open connections exist, by entryPoint and protocol', 'gauge');
  readonly epRequests = new Family('traefik_entrypoint_requests_total', 'How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.', 'counter');
  readonly epTlsRequests = new Family('traefik_entrypoint_requests_tls_total', 'How many HTTP requests with TLS processed on an entrypoint, partitioned by TLS Version and TLS cipher Used.', 'counter');
  readonly epDuration = new Family('traefik_entrypoint_request_duration_seconds', 'How long it took to process the request on an entrypoint, partitioned by status code, protocol, and method.', 'histogram');
  readonly epReqBytes = new Family('traefik_entrypoint_requests_bytes_total', 'The total size of requests in bytes handled by an entrypoint, partitioned by status code, protocol, and method.', 'counter');
  readonly epRespBytes = new Family('traefik_entrypoint_responses_bytes_total', 'The total size of responses in bytes handled by an entrypoint, partitioned by status code, protocol, and method.', 'counter');
  readonly svcRequests = new Family('traefik_service_requests_total', 'How many HTTP requests processed on a service, partitioned by status code, protocol, and method.', 'counter');
  readonly svcTlsRequests = new Family('traefik_service_requests_tls_total', 'How many HTTP requests with TLS processed on a service, partitioned by TLS version and TLS cipher.', 'counter');
  readonly svcDuration = new Family('traefik_service_request_duration_seconds', 'How long it took to process the request on a service, partitioned by status code, protocol, and method.', 'histogram');
  readonly svcReqBytes = new Family('traefik_service_requests_bytes_total', 'The total size of requests in bytes received by a service, partitioned by status code, protocol, and method.', 'counter');
  readonly svcRespBytes = new Family('traefik_service_responses_bytes_total', 'The total size of responses in bytes returned by a service, partitioned by status code, protocol, and method.', 'counter');
  readonly svcRetries = new Family('traefik_service_retries_total', 'How many request retries happened on a service.', 'counter');
  readonly serverUp = new Family('traefik_service_server_up', 'service server is up, described by gauge value of 0 or 1.', 'gauge');

  observe(o: RequestObservation): void {
    const base = { code: String(o.code), method: o.method, protocol: o.protocol };
    const ep = { ...base, entrypoint: o.entryPoint };
    this.epRequests.add(ep);
    this.epDuration.observe(ep, o.seconds);
    this.epReqBytes.add(ep, o.requestBytes);
    this.epRespBytes.add(ep, o.responseBytes);
    if (o.tls) this.epTlsRequests.add({ tls_version: o.tls.version, tls_cipher: o.tls.cipher, entrypoint: o.entryPoint });
    if (!o.service) return;
    const svc = { ...base, service: o.service };
    this.svcRequests.add(svc);
    this.svcDuration.observe(svc, o.seconds);
    this.svcReqBytes.add(svc, o.requestBytes);
    this.svcRespBytes.add(svc, o.responseBytes);
    if (o.tls) this.svcTlsRequests.add({ tls_version: o.tls.version, tls_cipher: o.tls.cipher, service: o.service });
  }

  render(): string {
    return [
      this.configReloads, this.lastReloadSuccess, this.openConnections, this.epRequests, this.epTlsRequests, this.epDuration, this.epReqBytes,
      this.epRespBytes, this.svcRequests, this.svcTlsRequests, this.svcDuration, this.svcReqBytes, this.svcRespBytes, this.svcRetries, this.serverUp,
    ]
      .map((f) => f.render())
      .join('');
  }
}
