// Container probes as the kubelet's prober runs them: one worker per container and probe kind,
// ticking every periodSeconds after initialDelaySeconds, turning consecutive results into a state
// with successThreshold / failureThreshold. Readiness starts false, liveness true; while a startup
// probe has not succeeded the other two do not run. A liveness or startup failure asks the kubelet
// to kill the container (which then restarts by its restartPolicy).
//
// httpGet and tcpSocket go from the node's namespace to the Pod's IP, as from a real kubelet: in
// process when the kubelet runs inside the node's namespace, else through a node process started there.
// exec runs the command inside the Pod.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from '../api/types.js';
import { exec } from '../sys/exec.js';
import { execIn, type Netns } from '../sys/netns.js';
import { inPodArgv } from './containers.js';
import type { ProbeResults } from './status.js';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeTarget {
  podIP: string;
  container: Container;
  pod: { utsFile: string; netns: string };
  env: Record<string, string>;
  /** The node's namespace when the kubelet process is not inside it. */
  nodeNetns?: Netns;
}

/** A port given by number or by the name of one of the container's ports. */
export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = container.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`couldn't find port ${port} in container ${container.name}`);
  return found.containerPort;
}

interface NetCheck {
  kind: 'http' | 'tcp';
  host: string;
  port: number;
  path?: string;
  https?: boolean;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** The kubelet's probe request: GET with kube-probe's User-Agent; 200–399 is success. */
function netCheck(c: NetCheck): Promise<boolean> {
  return new Promise((resolve) => {
    if (c.kind === 'tcp') {
      const socket = net.connect({ host: c.host, port: c.port });
      socket.setTimeout(c.timeoutMs, () => (socket.destroy(), resolve(false)));
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      return;
    }
    const transport = c.https ? https : http;
    const req = transport.request(
      { host: c.host, port: c.port, path: c.path ?? '/', method: 'GET', headers: { 'User-Agent': 'kube-probe/1.31', Accept: '*/*', ...c.headers }, timeout: c.timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** netCheck run by a node process inside ns (the script is netCheck again, as plain JavaScript). */
async function netCheckIn(ns: Netns, c: NetCheck): Promise<boolean> {
  const script = `const c=JSON.parse(process.argv[1]);const done=(ok)=>process.exit(ok?0:1);
if(c.kind==='tcp'){const s=require('net').connect({host:c.host,port:c.port});s.setTimeout(c.timeoutMs,()=>done(false));s.once('connect',()=>done(true));s.once('error',()=>done(false));}
else{const t=require(c.https?'https':'http');const r=t.request({host:c.host,port:c.port,path:c.path||'/',headers:Object.assign({'User-Agent':'kube-probe/1.31',Accept:'*/*'},c.headers),timeout:c.timeoutMs,rejectUnauthorized:false},(res)=>done(res.statusCode>=200&&res.statusCode<400));r.once('timeout',()=>done(false));r.once('error',()=>done(false));r.end();}`;
  const out = await execIn(ns, process.execPath, ['-e', script, JSON.stringify(c)], { allowFailure: true, timeoutMs: c.timeoutMs + 5000 });
  return out.code === 0;
}

export async function runProbe(probe: Probe, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) {
      const argv = inPodArgv(target.pod, probe.exec.command ?? []);
      const out = await exec(argv[0]!, argv.slice(1), { env: target.env, allowFailure: true, timeoutMs });
      return out.code === 0;
    }
    let check: NetCheck;
    if (probe.httpGet) {
      const g = probe.httpGet;
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
      check = { kind: 'http', host: g.host || target.podIP, port: resolvePort(g.port, target.container), path: g.path, https: g.scheme === 'HTTPS', headers, timeoutMs };
    } else if (probe.tcpSocket) {
      check = { kind: 'tcp', host: probe.tcpSocket.host || target.podIP, port: resolvePort(probe.tcpSocket.port, target.container), timeoutMs };
    } else {
      return true;
    }
    return target.nodeNetns ? await netCheckIn(target.nodeNetns, check) : await netCheck(check);
  } catch {
    // exec timing out, a port name that does not exist: a failed probe
    return false;
  }
}

interface Worker {
  kind: ProbeKind;
  timer?: NodeJS.Timeout;
  successes: number;
  failures: number;
}

interface ContainerProbes {
  containerID: string;
  ready: boolean;
  started: boolean;
  workers: Worker[];
}

export interface ProbeEvents {
  /** A result changed: the Pod's status needs a look. */
  changed(uid: string): void;
  /** Liveness or startup failed past its threshold. */
  failed(uid: string, container: string, kind: 'liveness' | 'startup'): void;
}

const key = (uid: string, container: string) => `${uid}/${container}`;

export class ProbeManager {
  private readonly containers = new Map<string, ContainerProbes>();

  constructor(private readonly events: ProbeEvents) {}

  /** Probe this instance of the container (a new containerID restarts every worker). */
  ensure(uid: string, containerID: string, target: ProbeTarget): void {
    const k = key(uid, target.container.name);
    if (this.containers.get(k)?.containerID === containerID) return;
    this.stop(uid, target.container.name);
    const c = target.container;
    const state: ContainerProbes = { containerID, ready: !c.readinessProbe, started: !c.startupProbe, workers: [] };
    this.containers.set(k, state);
    for (const kind of ['startup', 'readiness', 'liveness'] as const) {
      const probe = c[`${kind}Probe`];
      if (!probe) continue;
      const worker: Worker = { kind, successes: 0, failures: 0 };
      state.workers.push(worker);
      const tick = async () => {
        if (!state.workers.includes(worker)) return;
        if (kind === 'startup' || state.started) await this.probeOnce(uid, state, worker, probe, target);
        if (state.workers.includes(worker)) worker.timer = setTimeout(tick, (probe.periodSeconds ?? 10) * 1000);
      };
      worker.timer = setTimeout(tick, (probe.initialDelaySeconds ?? 0) * 1000);
    }
  }

  private async probeOnce(uid: string, state: ContainerProbes, w: Worker, probe: Probe, target: ProbeTarget): Promise<void> {
    const ok = await runProbe(probe, target);
    if (!state.workers.includes(w)) return;
    if (ok) {
      w.failures = 0;
      w.successes++;
    } else {
      w.successes = 0;
      w.failures++;
    }
    const success = w.successes >= (w.kind === 'readiness' ? probe.successThreshold ?? 1 : 1);
    const failure = w.failures >= (probe.failureThreshold ?? 3);
    if (w.kind === 'readiness') {
      const ready = success ? true : failure ? false : state.ready;
      if (ready !== state.ready) {
        state.ready = ready;
        this.events.changed(uid);
      }
    } else if (w.kind === 'startup' && success) {
      state.started = true;
      clearTimeout(w.timer);
      state.workers = state.workers.filter((x) => x !== w);
      this.events.changed(uid);
    } else if (failure) {
      w.failures = 0;
      this.events.failed(uid, target.container.name, w.kind as 'liveness' | 'startup');
    }
  }

  results(uid: string, container: string): ProbeResults {
    const state = this.containers.get(key(uid, container));
    return state ? { ready: state.ready, started: state.started } : { ready: false, started: false };
  }

  /** Stop probing one container, or every container of the Pod. */
  stop(uid: string, container?: string): void {
    for (const [k, state] of this.containers) {
      if (container !== undefined ? k !== key(uid, container) : !k.startsWith(`${uid}/`)) continue;
      for (const w of state.workers) clearTimeout(w.timer);
      state.workers = [];
      this.containers.delete(k);
    }
  }

  stopAll(): void {
    for (const k of [...this.containers.keys()]) this.stop(k.slice(0, k.indexOf('/')));
  }
}
