// The ingress controller as a program, with Traefik's flag names where they exist:
//   --entrypoints.web.address=:80 --entrypoints.websecure.address=:443 --entrypoints.traefik.address=:8080
//   --providers.kubernetesingress.ingressendpoint.ip=ADDR (repeatable; default: node InternalIPs)
//   --entrypoints.web.transport.respondingtimeouts.readtimeout=60s  --accesslog=true
//   --compat=traefik (stock Traefik matching; default: Ingress spec)  --api-socket=PATH (or KEMU_API_SOCKET)

import { HttpClient } from '../api/http-client.js';
import { onTermination } from '../workloads/lifecycle.js';
import { startIngressController } from './main.js';
import { parseGoDuration } from './proxy/durations.js';

export interface IngressFlags {
  web: number;
  websecure: number;
  api: number;
  address: string;
  compat: 'spec' | 'traefik';
  accessLog: boolean;
  publish: string[];
  readTimeoutMs?: number;
  apiSocket: string;
}

/** ':80' or '0.0.0.0:80' -> host and port. */
function parseAddress(flag: string, value: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new Error(`${flag}: invalid address ${JSON.stringify(value)} (want [host]:port)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function parseIngressFlags(args: readonly string[], env: NodeJS.ProcessEnv = process.env): IngressFlags {
  const flags: IngressFlags = { web: 80, websecure: 443, api: 8080, address: '0.0.0.0', compat: 'spec', accessLog: false, publish: [], apiSocket: env.KEMU_API_SOCKET ?? '' };
  for (const arg of args) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const name = m[1]!.toLowerCase();
    const value = m[2] ?? 'true';
    switch (name) {
      case 'entrypoints.web.address':
      case 'entrypoints.websecure.address':
      case 'entrypoints.traefik.address': {
        const a = parseAddress(arg, value);
        if (a.host) flags.address = a.host;
        const ep = name.split('.')[1]!;
        if (ep === 'web') flags.web = a.port;
        else if (ep === 'websecure') flags.websecure = a.port;
        else flags.api = a.port;
        break;
      }
      case 'entrypoints.web.transport.respondingtimeouts.readtimeout':
        flags.readTimeoutMs = parseGoDuration(value);
        break;
      case 'providers.kubernetesingress.ingressendpoint.ip':
        flags.publish.push(value);
        break;
      case 'accesslog':
        flags.accessLog = value === 'true';
        break;
      case 'accesslog.format':
        if (value !== 'json') throw new Error(`--accesslog.format: only json is supported`);
        flags.accessLog = true;
        break;
      case 'compat':
        if (value !== 'traefik' && value !== 'spec') throw new Error(`--compat: want traefik or spec, got ${JSON.stringify(value)}`);
        flags.compat = value;
        break;
      case 'api-socket':
        flags.apiSocket = value;
        break;
      // Traefik flags a kemu setup passes and that are always on here
      case 'api.insecure':
      case 'ping':
      case 'metrics.prometheus':
      case 'providers.kubernetesingress':
      case 'providers.kubernetescrd':
        break;
      default:
        throw new Error(`unknown flag --${m[1]}`);
    }
  }
  return flags;
}

export async function run(args: string[]): Promise<void> {
  const flags = parseIngressFlags(args);
  if (!flags.apiSocket) throw new Error('no API: pass --api-socket or set KEMU_API_SOCKET');
  const client = new HttpClient({ socketPath: flags.apiSocket });
  const ic = await startIngressController({
    client,
    entrypoints: { web: flags.web, websecure: flags.websecure },
    apiPort: flags.api,
    address: flags.address,
    compat: flags.compat,
    ...(flags.publish.length ? { publishAddresses: flags.publish } : {}),
    ...(flags.readTimeoutMs ? { timeouts: { requestMs: flags.readTimeoutMs, headersMs: flags.readTimeoutMs } } : {}),
    log: {
      info: (l) => console.log(l),
      error: (l) => console.error(l),
      ...(flags.accessLog ? { access: (r: Record<string, unknown>) => console.log(JSON.stringify(r)) } : {}),
    },
  });
  onTermination(async () => {
    await ic.stop();
    client.close();
  });
}
