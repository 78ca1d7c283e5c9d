// The `coredns` program: what kemu runs for the registry.k8s.io/coredns/coredns image. Flags as
// CoreDNS: `-conf FILE` (default "Corefile"); plus kemu's way to reach the API, `--api-socket PATH`
// or env KEMU_API_SOCKET (a real CoreDNS Pod uses its service account token instead), and
// `--workers N` (kemu only): how many processes answer queries.
//
// CoreDNS is one Go process that uses every CPU. A Node.js process answers on one CPU, so the
// program forks N workers (node:cluster) that share the DNS sockets, each with its own informers
// and zone; the primary serves reload, health, ready and metrics once for all of them (see
// workers/primary.ts). The default is the number of CPUs, at most 2 (bench/dns.ts measures why:
// two workers roughly double the QPS of one on a 2-CPU host). `--workers 1` runs everything in
// one process, without a primary.
//
// The Corefile comes from the coredns ConfigMap when there is an API, else from the -conf file
// (see corefile-source.ts).
//
// Start-up is on the path of `kemu up` (the coredns Pods must be Ready): a primary forks its
// workers before it loads the server's modules, and each process imports only its own part.

import cluster from 'node:cluster';
import os from 'node:os';
import path from 'node:path';
import type { HttpClient } from '../api/http-client.js';
import { FlagError, parseFlags } from '../workloads/flags.js';
import { onTermination } from '../workloads/lifecycle.js';
import { parseCorefile } from './corefile/parse.js';
import type { CorefileSource } from './corefile-source.js';

const LISTEN_ADDRESS = '0.0.0.0';
const MAX_DEFAULT_WORKERS = 2;

/** This Pod's own addresses, for the kubernetes plugin's NS answers. */
function podIPs(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80:')))
    .map((a) => a!.address);
}

/** The one port every server block listens on (kemu serves a single port per process). */
function listenPort(corefile: string): number {
  const ports = new Set(parseCorefile(corefile).flatMap((b) => b.keys.map((k) => k.port)));
  if (ports.size !== 1) throw new Error(`server blocks listen on ports ${[...ports].join(', ')}: kemu's coredns serves one port`);
  return [...ports][0]!;
}

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags(args, {
    conf: { kind: 'string', default: 'Corefile' },
    'api-socket': { kind: 'string', default: process.env.KEMU_API_SOCKET ?? '' },
    workers: { kind: 'int', default: Math.min(os.availableParallelism(), MAX_DEFAULT_WORKERS) },
  });
  if (flags.workers < 1) throw new FlagError(`invalid argument "${flags.workers}" for "--workers" flag: must be at least 1`);
  const socketPath = flags['api-socket'];
  const apiClient = async (): Promise<HttpClient | undefined> => (socketPath ? new (await import('../api/http-client.js')).HttpClient({ socketPath }) : undefined);
  if (cluster.isWorker) {
    const [{ runWorker }, client] = await Promise.all([import('./workers/worker.js'), apiClient()]);
    await runWorker({ ...(client ? { client } : {}), address: LISTEN_ADDRESS, portOf: listenPort, localIPs: podIPs() });
    return;
  }
  let client: HttpClient | undefined;
  const openSource = async (): Promise<CorefileSource> => {
    const [{ configMapCorefile, fileCorefile }, c] = await Promise.all([import('./corefile-source.js'), apiClient()]);
    client = c;
    return client ? configMapCorefile(client, path.basename(flags.conf)) : fileCorefile(flags.conf);
  };
  let stopServer: () => Promise<void>;
  let source: CorefileSource;
  let corefile: string;
  if (flags.workers === 1) {
    const [{ startClusterDns }, opened] = await Promise.all([import('./main.js'), openSource()]);
    source = opened;
    corefile = await source.read();
    const dns = await startClusterDns({
      ...(client ? { client } : {}),
      corefile,
      listen: { address: LISTEN_ADDRESS, port: listenPort(corefile) },
      localIPs: podIPs(),
      readCorefile: () => source.read(),
      ...(source.watch ? { watchCorefile: source.watch } : {}),
      onFatal: () => process.exit(1),
    });
    stopServer = () => dns.stop();
  } else {
    const { startPrimary } = await import('./workers/primary.js');
    const opening = openSource();
    const primary = await startPrimary({ workers: flags.workers, source: opening, onFatal: () => process.exit(1) });
    source = await opening;
    corefile = primary.control.running();
    stopServer = () => primary.stop();
  }
  for (const b of parseCorefile(corefile)) console.log(b.keys.map((k) => `${k.zone}:${k.port}`).join(' '));
  console.log('CoreDNS-1.11.3 (kemu)');
  onTermination(async () => {
    await stopServer();
    source.stop();
    client?.close();
  });
}
