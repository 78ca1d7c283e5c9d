// The kubelet's side of CNI, as containerd does it: the network config in the node's net.d (written
// here from flannel's subnet.env, as flannel's install-cni step and its CNI plugin together produce
// it), and ADD / DEL of a Pod's sandbox through the runtime in src/cni, with the Pod's hostPorts as
// the portMappings capability.
//
// hostPort is the reference portmap plugin itself (Debian's containernetworking-plugins), chained
// after kemu-cni as kube-flannel's conflist chains it after flannel, so the CNI-HOSTPORT-* and
// CNI-DN-* rules are upstream's own. It is exec'd for every Pod's ADD and DEL. Measured on this
// 2-core machine: without mappings it only prints prevResult back, ~3 ms CPU and ~7 ms p50 wall
// per call; with one mapping it runs iptables a dozen times, ~40 ms CPU per ADD or DEL (~40 ms ADD,
// ~110 ms DEL wall when quiet), paid only by Pods that ask for hostPorts. That is small against the
// 100 ms Pod start target, so kemu keeps the real binary rather than a copy of its rules.

import fs from 'node:fs';
import path from 'node:path';
import { CniRuntime, loadNetworkConfig, REFERENCE_PLUGIN_DIR } from '../cni/runtime.js';
import { subnetEnvPath, parseSubnetEnv } from '../cni/flannel/subnet-env.js';
import { formatPrefix, networkOf, parsePrefix } from '../cni/plugin/ipv4.js';
import { netnsPath, type Netns } from '../sys/netns.js';
import type { Pod } from '../api/types.js';

export const NETWORK_NAME = 'cbr0';
export const CONFLIST_FILE = '10-flannel.conflist';
export const POD_IFNAME = 'eth0';

export interface CniDirs {
  confDir: string;
  /** host-local's dataDir; reservations are files in <dataDir>/cbr0/. */
  dataDir: string;
  cacheDir: string;
}

export function cniDirs(stateDir: string, node: string): CniDirs {
  const base = path.join(stateDir, 'nodes', node, 'cni');
  return { confDir: path.join(base, 'net.d'), dataDir: path.join(base, 'networks'), cacheDir: path.join(base, 'cache') };
}

/** The conflist for this node from subnet.env's variables; undefined while they are incomplete. */
export function flannelConflist(env: Record<string, string>, dataDir: string): Record<string, unknown> | undefined {
  const subnet = parsePrefix(env.FLANNEL_SUBNET ?? '');
  const mtu = Number(env.FLANNEL_MTU);
  if (subnet === undefined || !env.FLANNEL_NETWORK || !Number.isInteger(mtu) || mtu <= 0) return undefined;
  return {
    name: NETWORK_NAME,
    cniVersion: '1.0.0',
    plugins: [
      {
        type: 'kemu-cni',
        bridge: 'cni0',
        isGateway: true,
        isDefaultGateway: true,
        hairpinMode: true,
        mtu,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: formatPrefix(networkOf(subnet), subnet.length) }]],
          routes: [{ dst: env.FLANNEL_NETWORK }],
          dataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** Write the conflist once flannel wrote subnet.env; false while it has not (the network is not ready). */
export function ensureNetworkConfig(stateDir: string, node: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(subnetEnvPath(stateDir, node), 'utf8');
  } catch {
    return false;
  }
  const dirs = cniDirs(stateDir, node);
  const conflist = flannelConflist(parseSubnetEnv(text), dirs.dataDir);
  if (!conflist) return false;
  const file = path.join(dirs.confDir, CONFLIST_FILE);
  const want = `${JSON.stringify(conflist, null, 2)}\n`;
  try {
    if (fs.readFileSync(file, 'utf8') === want) return true;
  } catch {
    // first write
  }
  fs.mkdirSync(dirs.confDir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, want);
  fs.renameSync(`${file}.tmp`, file);
  return true;
}

/** One entry of the portMappings capability, in the form CNI's conventions give it. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/**
 * The portMappings the runtime passes for a Pod: the kubelet hands every container port to the CRI
 * (MakePortMappings; init containers' are not), containerd keeps those with a hostPort and lowercases
 * the protocol (toCNIPortMappings).
 */
export function podPortMappings(pod: Pod): PortMapping[] {
  return pod.spec.containers.flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => (p.hostPort ?? 0) > 0)
      .map((p) => ({
        hostPort: p.hostPort!,
        containerPort: p.containerPort,
        protocol: (p.protocol ?? 'TCP').toLowerCase() as PortMapping['protocol'],
        ...(p.hostIP ? { hostIP: p.hostIP } : {}),
      })),
  );
}

export interface PodAttachment {
  sandboxID: string;
  netns: string;
  namespace: string;
  name: string;
  uid: string;
}

export class PodNetwork {
  constructor(
    private readonly dirs: CniDirs,
    private readonly binDirs: string[],
    /** The node's namespace when the kubelet does not run inside it. */
    private readonly nodeNetns?: Netns,
  ) {}

  private runtime(): CniRuntime {
    const binDirs = [...this.binDirs, REFERENCE_PLUGIN_DIR];
    return new CniRuntime(loadNetworkConfig(this.dirs.confDir), { binDirs, cacheDir: this.dirs.cacheDir, netns: this.nodeNetns });
  }

  private spec(a: PodAttachment) {
    return {
      containerID: a.sandboxID,
      netns: netnsPath(a.netns),
      ifname: POD_IFNAME,
      // what containerd's CRI plugin passes
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: a.namespace, K8S_POD_NAME: a.name, K8S_POD_INFRA_CONTAINER_ID: a.sandboxID, K8S_POD_UID: a.uid },
    };
  }

  /** ADD; returns the Pod's IPv4 address. */
  async add(a: PodAttachment, portMappings: PortMapping[] = []): Promise<string> {
    const result = (await this.runtime().add({ ...this.spec(a), capabilityArgs: { portMappings } })) as { ips?: { address: string }[] };
    const address = result.ips?.[0]?.address;
    if (!address) throw new Error(`network ${NETWORK_NAME} gave pod ${a.namespace}/${a.name} no IP address`);
    return address.split('/')[0]!;
  }

  /**
   * DEL, also when the namespace is already gone: the plugin still releases the address. The
   * portMappings are the ones cached with the ADD (the Pod object may be gone by now).
   */
  async del(a: PodAttachment): Promise<void> {
    await this.runtime().del(this.spec(a));
  }
}
