// One access-log record per request, in Traefik's JSON field names (headers dropped, as its default).

import type { RouterConfig } from './config/types.js';

export interface AccessLogInput {
  start: Date;
  durationNs: number;
  router?: RouterConfig;
  serviceUrl?: string;
  clientAddr: string;
  clientIp: string;
  clientPort: number;
  username?: string;
  host: string;
  method: string;
  path: string;
  protocol: string;
  scheme: 'http' | 'https';
  requestBytes: number;
  originStatus: number;
  downstreamStatus: number;
  downstreamBytes: number;
  retryAttempts: number;
  entryPoint: string;
  tls?: { version: string; cipher: string };
}

export function accessLogRecord(i: AccessLogInput): Record<string, unknown> {
  const [requestHost, requestPort = '-'] = i.host.startsWith('[') ? [i.host.replace(/\]:\d+$/, ']'), /\]:(\d+)$/.exec(i.host)?.[1] ?? '-'] : i.host.split(':');
  const rec: Record<string, unknown> = {
    ClientAddr: i.clientAddr,
    ClientHost: i.clientIp,
    ClientPort: String(i.clientPort),
    ClientUsername: i.username ?? '-',
    DownstreamContentSize: i.downstreamBytes,
    DownstreamStatus: i.downstreamStatus,
    Duration: i.durationNs,
    EntryPointName: i.entryPoint,
    OriginStatus: i.originStatus,
    Overhead: i.durationNs,
    RequestAddr: i.host,
    RequestContentSize: i.requestBytes,
    RequestCount: 0,
    RequestHost: requestHost,
    RequestMethod: i.method,
    RequestPath: i.path,
    RequestPort: requestPort,
    RequestProtocol: i.protocol,
    RequestScheme: i.scheme,
    RetryAttempts: i.retryAttempts,
    StartLocal: i.start.toISOString(),
    StartUTC: i.start.toISOString(),
  };
  if (i.router) {
    rec.RouterName = i.router.name;
    rec.ServiceName = i.router.service;
    if (i.router.origin) {
      rec.KubernetesIngressNamespace = i.router.origin.namespace;
      rec.KubernetesIngressName = i.router.origin.ingress;
      rec.KubernetesServiceName = i.router.origin.service;
      rec.KubernetesServicePort = i.router.origin.servicePort;
    }
  }
  if (i.serviceUrl) {
    rec.ServiceURL = i.serviceUrl;
    rec.ServiceAddr = new URL(i.serviceUrl).host;
  }
  if (i.tls) {
    rec.TLSVersion = i.tls.version.replace(/^TLSv/, '');
    rec.TLSCipher = i.tls.cipher;
  }
  return rec;
}
