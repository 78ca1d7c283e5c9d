// A cluster's settings and where its state lives on the host. Every setting has the default a
// kind/kubeadm cluster uses; `kemu up` flags override them and they are saved in the state directory.

import fs from 'node:fs';
import path from 'node:path';

export interface ClusterConfig {
  name: string;
  clusterCIDR: string;
  serviceCIDR: string;
  /** The `kubernetes` Service's ClusterIP: the first address of serviceCIDR. */
  kubernetesServiceIP: string;
  /** kube-dns's ClusterIP, reserved by the allocator. */
  dnsServiceIP: string;
  clusterDomain: string;
  nodePortRange: { min: number; max: number };
  /** The underlay between nodes; the first host is the bridge in the root namespace. */
  underlayCIDR: string;
  /** Worker nodes besides the control-plane node. */
  workers: number;
  /** flannel backend; `none` leaves routing between nodes to the student. */
  backend: 'vxlan' | 'host-gw' | 'none';
  proxyMode: 'iptables' | 'nftables' | 'ipvs';
}

export const DEFAULT_CLUSTER_NAME = 'kemu';

export function defaultClusterConfig(name = DEFAULT_CLUSTER_NAME): ClusterConfig {
  return {
    name,
    clusterCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    kubernetesServiceIP: '10.96.0.1',
    dnsServiceIP: '10.96.0.10',
    clusterDomain: 'cluster.local',
    nodePortRange: { min: 30000, max: 32767 },
    underlayCIDR: '172.18.0.0/16',
    workers: 2,
    backend: 'vxlan',
    proxyMode: 'iptables',
  };
}

/** Root of all clusters' state; KEMU_STATE_ROOT moves it (tests use a temporary directory). */
export function stateRoot(): string {
  return process.env.KEMU_STATE_ROOT ?? '/var/lib/kemu';
}

export interface ClusterPaths {
  dir: string;
  /** The API server's Unix socket. */
  apiSocket: string;
  /** The store's log and snapshots. */
  storeDir: string;
  logDir: string;
  /** pid file of the control-plane process */
  controlPlanePid: string;
  /** saved ClusterConfig (JSON) */
  configFile: string;
}

export function clusterPaths(cluster: string): ClusterPaths {
  const dir = path.join(stateRoot(), cluster);
  return {
    dir,
    apiSocket: path.join(dir, 'api.sock'),
    storeDir: path.join(dir, 'store'),
    logDir: path.join(dir, 'logs'),
    controlPlanePid: path.join(dir, 'control-plane.pid'),
    configFile: path.join(dir, 'cluster.json'),
  };
}

/** The config saved by `kemu up`, or the defaults for a cluster that never saved one. */
export function loadClusterConfig(cluster: string): ClusterConfig {
  try {
    const saved = JSON.parse(fs.readFileSync(clusterPaths(cluster).configFile, 'utf8')) as Partial<ClusterConfig>;
    return { ...defaultClusterConfig(cluster), ...saved, name: cluster };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return defaultClusterConfig(cluster);
    throw new Error(`cannot read ${clusterPaths(cluster).configFile}: ${(e as Error).message}`);
  }
}

export function saveClusterConfig(config: ClusterConfig): void {
  const file = clusterPaths(config.name).configFile;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

/** The first host address of the underlay CIDR: the underlay bridge's address in the root namespace. */
export function underlayGatewayIP(config: ClusterConfig): string {
  const [base] = config.underlayCIDR.split('/');
  const octets = base.split('.').map(Number);
  octets[3] += 1;
  return octets.join('.');
}
