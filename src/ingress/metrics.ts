// Prometheus metrics with Traefik's names and labels (entrypoint and service families; router
// labels are off by default in Traefik). Counters and histograms keyed by their label values,
// rendered in the text exposition format on /metrics. Per-request observations go to series
// resolved once per label combination, so the hot path neither builds label text nor objects.

const BUCKETS = [0.1, 0.3, 1.2, 5.0];

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface Series {
  labels: Labels;
  value: number;
  buckets?: number[];
  sum?: number;
}

function observeSeries(e: Series, seconds: number): void {
  e.value += 1;
  e.sum! += seconds;
  const buckets = e.buckets!;
  for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) buckets[i]! += 1;
}

class Family {
  readonly values = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}

  series(labels: Labels): Series {
    const key = labelText(labels);
    let e = this.values.get(key);
    if (!e) {
      e = { labels, value: 0, ...(this.type === 'histogram' ? { buckets: BUCKETS.map(() => 0), sum: 0 } : {}) };
      this.values.set(key, e);
    }
    return e;
  }

  add(labels: Labels, by = 1): void {
    this.series(labels).value += by;
  }

  set(labels: Labels, value: number): void {
    this.series(labels).value = value;
  }

  observe(labels: Labels, seconds: number): void {
    observeSeries(this.series(labels), seconds);
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

/** The series one request updates in a requests / duration / request bytes / response bytes group. */
interface RequestSeries {
  requests: Series;
  duration: Series;
  requestBytes: Series;
  responseBytes: Series;
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

const PROTOCOLS = ['http', 'websocket', 'sse'] as const;

/**
 * The series of one family group by scope (an entrypoint or a service name), method, status code
 * and protocol, in nested maps: a request looks its series up without building a key string.
 */
class RequestSeriesCache {
  private readonly byScope = new Map<string, Map<string, Map<number, (RequestSeries | undefined)[]>>>();

  constructor(
    private readonly families: Family[],
    private readonly scopeLabel: string,
  ) {}

  get(scope: string, o: RequestObservation): RequestSeries {
    let byMethod = this.byScope.get(scope);
    if (!byMethod) this.byScope.set(scope, (byMethod = new Map()));
    let byCode = byMethod.get(o.method);
    if (!byCode) byMethod.set(o.method, (byCode = new Map()));
    let byProtocol = byCode.get(o.code);
    if (!byProtocol) byCode.set(o.code, (byProtocol = []));
    const p = PROTOCOLS.indexOf(o.protocol);
    let s = byProtocol[p];
    if (!s) {
      const labels = { code: String(o.code), method: o.method, protocol: o.protocol, [this.scopeLabel]: scope };
      const [requests, duration, requestBytes, responseBytes] = this.families.map((f) => f.series(labels)) as [Series, Series, Series, Series];
      s = byProtocol[p] = { requests, duration, requestBytes, responseBytes };
    }
    return s;
  }
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

  private readonly epGroup = [this.epRequests, this.epDuration, this.epReqBytes, this.epRespBytes];
  private readonly svcGroup = [this.svcRequests, this.svcDuration, this.svcReqBytes, this.svcRespBytes];
  private readonly epSeries = new RequestSeriesCache(this.epGroup, 'entrypoint');
  private readonly svcSeries = new RequestSeriesCache(this.svcGroup, 'service');
  // TLS counters by scope (entrypoint or service), then version and cipher
  private readonly tlsSeries = new Map<string, Series>();

  private tlsCounter(family: Family, key: string, labels: () => Labels): Series {
    let s = this.tlsSeries.get(key);
    if (!s) {
      s = family.series(labels());
      this.tlsSeries.set(key, s);
    }
    return s;
  }

  observe(o: RequestObservation): void {
    countRequest(this.epSeries.get(o.entryPoint, o), o);
    const tls = o.tls;
    if (tls) this.tlsCounter(this.epTlsRequests, `ep\0${o.entryPoint}\0${tls.version}\0${tls.cipher}`, () => ({ tls_version: tls.version, tls_cipher: tls.cipher, entrypoint: o.entryPoint })).value += 1;
    const service = o.service;
    if (!service) return;
    countRequest(this.svcSeries.get(service, o), o);
    if (tls) this.tlsCounter(this.svcTlsRequests, `svc\0${service}\0${tls.version}\0${tls.cipher}`, () => ({ tls_version: tls.version, tls_cipher: tls.cipher, service })).value += 1;
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

function countRequest(s: RequestSeries, o: RequestObservation): void {
  s.requests.value += 1;
  observeSeries(s.duration, o.seconds);
  s.requestBytes.value += o.requestBytes;
  s.responseBytes.value += o.responseBytes;
}
