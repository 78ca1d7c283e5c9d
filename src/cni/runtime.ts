// How a container runtime (containerd's CRI plugin via libcni) drives CNI plugins, for the kubelet:
// pick the network config, exec each plugin of the list from CNI_PATH with the CNI_* environment and
// the plugin's config on stdin (name, cniVersion, prevResult and runtimeConfig injected), cache the
// final ADD result (and the capability arguments) for CHECK and DEL, and DEL in reverse order.

import fs from 'node:fs';
import path from 'node:path';
import { execIn } from '../sys/netns.js';
import type { Netns } from '../sys/netns.js';

/** Where Debian's containernetworking-plugins puts the reference plugins (portmap); on CNI_PATH after kemu's. */
export const REFERENCE_PLUGIN_DIR = '/usr/lib/cni';

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: Record<string, unknown>[];
  /** The file it came from. */
  file: string;
  /** The file's bytes, cached with the result like libcni does. */
  source: string;
}

export interface AttachmentSpec {
  containerID: string;
  /** Path of the Pod's netns; may be empty on DEL when it is already gone. */
  netns: string;
  ifname: string;
  /** CNI_ARGS pairs, e.g. K8S_POD_NAMESPACE. */
  args?: Record<string, string>;
  /** Capability arguments (portMappings, …), passed as runtimeConfig to plugins that declare them. */
  capabilityArgs?: Record<string, unknown>;
}

export class CniPluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly code: number,
    readonly msg: string,
    readonly details?: string,
  ) {
    super(`plugin type="${plugin}" failed (${command.toLowerCase()}): ${msg}${details ? ` (${details})` : ''}`);
    this.name = 'CniPluginError';
  }
}

/**
 * The config containerd uses: every *.conf, *.conflist and *.json in the directory, sorted by file
 * name, the first one wins (hence names like 10-flannel.conflist).
 */
export function loadNetworkConfig(confDir: string): NetworkConfigList {
  const files = fs
    .readdirSync(confDir)
    .filter((f) => ['.conf', '.conflist', '.json'].includes(path.extname(f)))
    .sort();
  if (files.length === 0) throw new Error(`no network config found in ${confDir}`);
  return parseNetworkConfigFile(path.join(confDir, files[0]!));
}

export function parseNetworkConfigFile(file: string): NetworkConfigList {
  const source = fs.readFileSync(file, 'utf8');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(source) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (typeof raw.name !== 'string' || raw.name === '') throw new Error(`${file}: missing network name`);
  const cniVersion = typeof raw.cniVersion === 'string' ? raw.cniVersion : '0.1.0';
  const common = { cniVersion, name: raw.name, file, source };
  if (file.endsWith('.conflist')) {
    if (!Array.isArray(raw.plugins) || raw.plugins.length === 0) throw new Error(`${file}: no plugins in list`);
    const plugins = raw.plugins as Record<string, unknown>[];
    plugins.forEach((p, i) => {
      if (typeof p.type !== 'string' || p.type === '') throw new Error(`${file}: plugins[${i}] has no type`);
    });
    return { ...common, disableCheck: raw.disableCheck === true, plugins };
  }
  // A single-plugin .conf is a list of one.
  if (typeof raw.type !== 'string' || raw.type === '') throw new Error(`${file}: missing type`);
  return { ...common, plugins: [raw] };
}

/** The stdin for one plugin of the list. */
export function pluginRequest(
  list: NetworkConfigList,
  plugin: Record<string, unknown>,
  prevResult: unknown,
  capabilityArgs: Record<string, unknown> = {},
): Record<string, unknown> {
  const { capabilities, ...rest } = plugin;
  const request: Record<string, unknown> = { ...rest, cniVersion: list.cniVersion, name: list.name };
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, enabled] of Object.entries((capabilities ?? {}) as Record<string, unknown>)) {
    if (enabled === true && cap in capabilityArgs) runtimeConfig[cap] = capabilityArgs[cap];
  }
  if (Object.keys(runtimeConfig).length > 0) request.runtimeConfig = runtimeConfig;
  if (prevResult !== undefined) request.prevResult = prevResult;
  return request;
}

export interface CniRuntimeOptions {
  /** Directories searched for plugin binaries (CNI_PATH). */
  binDirs: string[];
  /** Where results are cached (libcni: /var/lib/cni); results go to <cacheDir>/results. */
  cacheDir: string;
  /** Run plugins inside this namespace (the node's) instead of this process's. */
  netns?: Netns;
  timeoutMs?: number;
}

interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  ifName: string;
  networkName: string;
  config: string;
  cniArgs: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result: unknown;
}

export class CniRuntime {
  constructor(
    readonly list: NetworkConfigList,
    readonly options: CniRuntimeOptions,
  ) {}

  /** ADD through the list; on failure the attachment is DELeted again, as the spec asks. */
  async add(att: AttachmentSpec): Promise<unknown> {
    let result: unknown;
    try {
      for (const plugin of this.list.plugins) {
        result = await this.invoke('ADD', plugin, att, result);
      }
    } catch (e) {
      await this.delWith(att, undefined).catch(() => undefined);
      throw e;
    }
    this.writeCache(att, result);
    return result;
  }

  async check(att: AttachmentSpec): Promise<void> {
    if (this.list.disableCheck) return;
    const cached = this.readCache(att);
    if (!cached) throw new Error(`failed to get network "${this.list.name}" cached result for ${att.containerID}/${att.ifname}`);
    for (const plugin of this.list.plugins) await this.invoke('CHECK', plugin, att, cached.result);
  }

  /**
   * DEL in reverse order with the cached ADD result; the cache entry goes once all succeeded. A
   * caller without capability arguments gets the cached ones, as CRI-O's ocicni tears down with
   * GetNetworkListCachedConfig: portmap removes nothing unless it is told the mappings again.
   */
  async del(att: AttachmentSpec): Promise<void> {
    const cached = this.readCache(att);
    await this.delWith({ ...att, capabilityArgs: att.capabilityArgs ?? cached?.capabilityArgs }, cached?.result);
    fs.rmSync(this.cacheFile(att), { force: true });
  }

  private async delWith(att: AttachmentSpec, prevResult: unknown): Promise<void> {
    for (const plugin of [...this.list.plugins].reverse()) await this.invoke('DEL', plugin, att, prevResult);
  }

  private async invoke(command: string, plugin: Record<string, unknown>, att: AttachmentSpec, prevResult: unknown): Promise<unknown> {
    const type = plugin.type as string;
    const binary = this.findPlugin(type);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CNI_COMMAND: command,
      CNI_CONTAINERID: att.containerID,
      CNI_NETNS: att.netns,
      CNI_IFNAME: att.ifname,
      CNI_ARGS: Object.entries(att.args ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(';'),
      CNI_PATH: this.options.binDirs.join(':'),
    };
    const stdin = JSON.stringify(pluginRequest(this.list, plugin, prevResult, att.capabilityArgs));
    // nsenter does not reset the environment, so the CNI_* variables reach the plugin.
    const out = await execIn(this.options.netns, binary, [], { input: stdin, env, allowFailure: true, timeoutMs: this.options.timeoutMs ?? 60_000 });
    if (out.code !== 0) throw pluginError(type, command, out.stdout, out.stderr);
    return command === 'ADD' ? (JSON.parse(out.stdout) as unknown) : undefined;
  }

  private findPlugin(type: string): string {
    for (const dir of this.options.binDirs) {
      const candidate = path.join(dir, type);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        continue;
      }
    }
    throw new Error(`failed to find plugin "${type}" in path [${this.options.binDirs.join(' ')}]`);
  }

  private cacheFile(att: AttachmentSpec): string {
    return path.join(this.options.cacheDir, 'results', `${this.list.name}-${att.containerID}-${att.ifname}`);
  }

  private writeCache(att: AttachmentSpec, result: unknown): void {
    const entry: CachedAttachment = {
      kind: 'cniCacheV1',
      containerId: att.containerID,
      ifName: att.ifname,
      networkName: this.list.name,
      config: Buffer.from(this.list.source).toString('base64'),
      cniArgs: Object.entries(att.args ?? {}),
      ...(att.capabilityArgs ? { capabilityArgs: att.capabilityArgs } : {}),
      result,
    };
    fs.mkdirSync(path.dirname(this.cacheFile(att)), { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.cacheFile(att), JSON.stringify(entry), { mode: 0o600 });
  }

  private readCache(att: AttachmentSpec): CachedAttachment | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.cacheFile(att), 'utf8')) as CachedAttachment;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}

function pluginError(type: string, command: string, stdout: string, stderr: string): CniPluginError {
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    if (typeof e.code === 'number') return new CniPluginError(type, command, e.code, e.msg ?? '', e.details);
  } catch {
    // not JSON: fall through to what it printed
  }
  return new CniPluginError(type, command, 999, (stdout + stderr).trim() || 'plugin failed without output');
}
