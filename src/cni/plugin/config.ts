// The request the runtime hands the plugin: CNI_* environment variables and the network config on
// stdin (a plugin entry of a conflist with name, cniVersion and prevResult injected). Options and
// defaults are those of the reference `bridge` plugin; what kemu-cni does not implement is refused
// with code 2 rather than silently ignored.

import { CniError, ErrorCode, incompatibleVersion, isSupportedVersion, parseResult } from './result.js';
import type { CniResult } from './result.js';
import { parseHostLocalConfig } from './ipam.js';
import type { HostLocalConfig } from './ipam.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface CniArgs {
  command: CniCommand;
  containerID: string;
  /** Path of the Pod's network namespace; may be empty on DEL. */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs (IP=, K8S_POD_NAME=, IgnoreUnknown=, …). */
  args: Map<string, string>;
}

export interface BridgeConfig {
  cniVersion: string;
  name: string;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  hairpinMode: boolean;
  promiscMode: boolean;
  mtu?: number;
  /** Absent when the config's ipam is `{}`: an L2-only attachment without addresses. */
  ipam?: HostLocalConfig;
  prevResult?: CniResult;
}

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION'];
const REQUIRED_ENV: Record<CniCommand, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: [],
};

/** The command and its arguments from the environment (the skel's checks and wording). */
export function parseEnv(env: Record<string, string | undefined>): CniArgs {
  const command = env.CNI_COMMAND ?? '';
  if (command === '') throw new CniError(ErrorCode.InvalidEnvironment, 'required env variables [CNI_COMMAND] missing');
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(ErrorCode.InvalidEnvironment, `unknown CNI_COMMAND: ${command}`);
  }
  const cmd = command as CniCommand;
  const missing = REQUIRED_ENV[cmd].filter((k) => !env[k]);
  if (missing.length > 0) throw new CniError(ErrorCode.InvalidEnvironment, `required env variables [${missing.join(',')}] missing`);
  const ifname = env.CNI_IFNAME ?? '';
  if (cmd !== 'VERSION') validateIfName(ifname);
  return { command: cmd, containerID: env.CNI_CONTAINERID ?? '', netns: env.CNI_NETNS ?? '', ifname, args: parseCniArgs(env.CNI_ARGS ?? '') };
}

/** Linux interface names: 1–15 bytes, no '/', no whitespace, not "." or "..". */
export function validateIfName(name: string): void {
  const problem =
    name.length === 0 ? 'is empty'
    : Buffer.byteLength(name) > 15 ? 'is too long'
    : name === '.' || name === '..' ? 'is not a valid name'
    : /[/:\s]/.test(name) ? 'contains an invalid character'
    : undefined;
  if (problem) throw new CniError(ErrorCode.InvalidEnvironment, `interface name ${JSON.stringify(name)} ${problem}`);
}

export function parseCniArgs(text: string): Map<string, string> {
  const args = new Map<string, string>();
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(ErrorCode.InvalidEnvironment, `ARGS: invalid pair "${pair}"`);
    args.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return args;
}

/** Decode stdin; checks the version first, as every reference plugin does. */
export function parseNetworkConfig(stdin: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(ErrorCode.DecodingFailure, `error unmarshall network config: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CniError(ErrorCode.DecodingFailure, 'error unmarshall network config: not a JSON object');
  }
  const conf = raw as Record<string, unknown>;
  const version = conf.cniVersion ?? '0.1.0';
  if (typeof version !== 'string' || !isSupportedVersion(version)) throw incompatibleVersion(String(version));
  return conf;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function parseBridgeConfig(conf: Record<string, unknown>): BridgeConfig {
  const name = conf.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid network name ${JSON.stringify(name)}`);
  }
  for (const key of ['ipMasq', 'vlan', 'vlanTrunk', 'macspoofchk', 'portIsolation'] as const) {
    const v = conf[key];
    if (v !== undefined && v !== false && v !== 0 && !(Array.isArray(v) && v.length === 0)) {
      throw new CniError(ErrorCode.UnsupportedField, `unsupported field ${key}: ${JSON.stringify(v)} (kemu-cni does not implement it)`);
    }
  }
  const bool = (key: string): boolean => {
    const v = conf[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw new CniError(ErrorCode.InvalidNetworkConfig, `${key} must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  const bridge = conf.bridge ?? 'cni0';
  if (typeof bridge !== 'string') throw new CniError(ErrorCode.InvalidNetworkConfig, 'bridge must be a string');
  validateIfName(bridge);
  const mtu = conf.mtu;
  if (mtu !== undefined && mtu !== 0 && (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid MTU ${JSON.stringify(mtu)}`);
  }
  const hairpinMode = bool('hairpinMode');
  const promiscMode = bool('promiscMode');
  if (hairpinMode && promiscMode) {
    throw new CniError(ErrorCode.Internal, 'cannot set hairpin mode and promiscuous mode at the same time.');
  }
  const isDefaultGateway = bool('isDefaultGateway');
  return {
    cniVersion: conf.cniVersion as string,
    name,
    bridge,
    // isDefaultGateway implies isGateway.
    isGateway: bool('isGateway') || isDefaultGateway,
    isDefaultGateway,
    forceAddress: bool('forceAddress'),
    hairpinMode,
    promiscMode,
    mtu: typeof mtu === 'number' && mtu > 0 ? mtu : undefined,
    ipam: parseIpamSection(conf.ipam),
    prevResult: conf.prevResult === undefined ? undefined : parseResult(conf.prevResult),
  };
}

/** Like the reference bridge, a missing ipam or one without a type means an L2-only network. */
function parseIpamSection(ipam: unknown): HostLocalConfig | undefined {
  if (ipam === undefined) return undefined;
  if (typeof ipam !== 'object' || ipam === null || Array.isArray(ipam)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, 'ipam must be an object');
  }
  const section = ipam as Record<string, unknown>;
  if (section.type === undefined) return undefined;
  if (section.type !== 'host-local') {
    throw new CniError(ErrorCode.UnsupportedField, `unsupported field ipam.type: ${JSON.stringify(section.type)} (kemu-cni has host-local built in)`);
  }
  return parseHostLocalConfig(section);
}
