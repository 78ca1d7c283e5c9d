// The conformance runner's HTTP client, behaving as the Go runner's does on the wire: HTTP/1.1 with
// keep-alive connections reused across requests, `User-Agent: Go-http-client/1.1`, no
// Accept-Encoding, `Content-Length: 0` on bodiless requests other than GET and HEAD, a 10 s timeout,
// SNI = Host for https with chain verification skipped (the leaf is kept for the hostname check),
// and redirects re-sent by hand to the same ingress address.

import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';

const USER_AGENT = 'Go-http-client/1.1';
const TIMEOUT_MS = 10_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Go's http.Client gives up after 10 redirects. */
const MAX_REDIRECTS = 10;

/** The echo server's JSON body; absent when the body is not a JSON object (a proxy's 404 page). */
export interface EchoBody {
  path?: string;
  host?: string;
  method?: string;
  proto?: string;
  headers?: Record<string, string[]>;
  namespace?: string;
  ingress?: string;
  service?: string;
  pod?: string;
}

export interface ConformanceResponse {
  status: number;
  /** e.g. HTTP/1.1 */
  proto: string;
  headers: IncomingHttpHeaders;
  echo?: EchoBody;
  /** https only: the leaf certificate the server presented */
  peerCertificate?: PeerCertificate;
}

export interface ConformanceRequest {
  method: string;
  scheme: 'http' | 'https';
  /** Host header and SNI; null sends the ingress address itself */
  host: string | null;
  path: string;
  headers?: Record<string, string>;
}

function parseEcho(body: string): EchoBody | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as EchoBody) : undefined;
  } catch {
    return undefined;
  }
}

export class ConformanceClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });

  /** `address`: the ingress address from the Ingress status; `ports`: where web and websecure listen on it. */
  constructor(
    private readonly address: string,
    private readonly ports: { http: number; https: number },
  ) {}

  async send(req: ConformanceRequest): Promise<ConformanceResponse> {
    let current = req;
    for (let hop = 0; ; hop++) {
      const res = await this.once(current);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || !location || hop >= MAX_REDIRECTS) return res;
      const from = `${current.scheme}://${current.host ?? this.address}`;
      const to = new URL(location, from);
      const keepMethod = res.status === 307 || res.status === 308 || current.method === 'HEAD';
      current = {
        ...current,
        method: keepMethod ? current.method : 'GET',
        scheme: to.protocol === 'https:' ? 'https' : 'http',
        host: to.host,
        path: `${to.pathname}${to.search}`,
      };
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private once(req: ConformanceRequest): Promise<ConformanceResponse> {
    const tls = req.scheme === 'https';
    const port = tls ? this.ports.https : this.ports.http;
    const defaultPort = tls ? 443 : 80;
    const headers: Record<string, string> = {
      'User-Agent': USER_AGENT,
      ...req.headers,
      Host: req.host ?? (port === defaultPort ? this.address : `${this.address}:${port}`),
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') headers['Content-Length'] = '0';
    const sniHost = req.host?.replace(/:\d+$/, '');
    const options: https.RequestOptions = {
      host: this.address,
      port,
      method: req.method,
      path: req.path,
      headers,
      setHost: false,
      timeout: TIMEOUT_MS,
      agent: tls ? this.httpsAgent : this.httpAgent,
      ...(tls ? { servername: sniHost, rejectUnauthorized: false } : {}),
    };
    return new Promise((resolve, reject) => {
      const request = (tls ? https : http).request(options, (res) => {
        // Read now: once the body ends, a keep-alive socket goes back to the agent.
        const peerCertificate = tls ? (res.socket as TLSSocket).getPeerCertificate() : undefined;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            proto: `HTTP/${res.httpVersion}`,
            headers: res.headers,
            echo: parseEcho(Buffer.concat(chunks).toString('utf8')),
            peerCertificate,
          });
        });
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms: ${req.method} ${req.scheme}://${req.host ?? this.address}${req.path}`)));
      request.on('error', reject);
      request.end();
    });
  }
}
