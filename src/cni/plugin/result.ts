// The JSON a CNI plugin prints: the ADD result and the error object (CNI spec 1.0.0, with the 0.3.x /
// 0.4.0 result form for older configs such as kube-flannel's 0.3.1 conflist). Key order follows the
// reference Go types so our output reads like the real plugins'.

export const CNI_VERSION = '1.0.0';
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;

/** Well-known error codes (spec "Error"); the reference plugins use 999 for everything else. */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  Internal: 999,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details?: string,
  ) {
    super(msg);
    this.name = 'CniError';
  }
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIPConfig {
  /** Index into interfaces; absent in IPAM results. */
  interface?: number;
  address: string;
  gateway?: string;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIPConfig[];
  routes?: CniRoute[];
  dns: CniDNS;
}

export function isSupportedVersion(version: string): boolean {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}

export function incompatibleVersion(version: string): CniError {
  const supported = SUPPORTED_VERSIONS.map((v) => JSON.stringify(v)).join(' ');
  return new CniError(ErrorCode.IncompatibleVersion, 'incompatible CNI versions', `config is "${version}", plugin supports [${supported}]`);
}

/** The result as printed for the config's cniVersion: before 1.0.0 every IP carried "version". */
export function renderResult(result: CniResult, cniVersion: string): Record<string, unknown> {
  const out: Record<string, unknown> = { cniVersion };
  const legacy = cniVersion !== '1.0.0';
  if (result.interfaces?.length) out.interfaces = result.interfaces.map(orderedInterface);
  if (result.ips?.length) {
    out.ips = result.ips.map((ip) => ({
      ...(legacy ? { version: ip.address.includes(':') ? '6' : '4' } : {}),
      ...(ip.interface !== undefined ? { interface: ip.interface } : {}),
      address: ip.address,
      ...(ip.gateway !== undefined ? { gateway: ip.gateway } : {}),
    }));
  }
  if (result.routes?.length) out.routes = result.routes.map((r) => ({ dst: r.dst, ...(r.gw !== undefined ? { gw: r.gw } : {}) }));
  out.dns = result.dns;
  return out;
}

function orderedInterface(i: CniInterface): CniInterface {
  return { name: i.name, ...(i.mac ? { mac: i.mac } : {}), ...(i.sandbox ? { sandbox: i.sandbox } : {}) };
}

export function renderError(error: CniError, cniVersion: string): Record<string, unknown> {
  return { cniVersion, code: error.code, msg: error.message, ...(error.details ? { details: error.details } : {}) };
}

/** A result read back (prevResult, cached result), with the fields we rely on checked. */
export function parseResult(value: unknown): CniResult {
  if (typeof value !== 'object' || value === null) throw new CniError(ErrorCode.DecodingFailure, 'prevResult is not an object');
  const r = value as Record<string, unknown>;
  const list = <T>(key: string): T[] | undefined => {
    const v = r[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new CniError(ErrorCode.DecodingFailure, `prevResult.${key} is not a list`);
    return v as T[];
  };
  return {
    cniVersion: typeof r.cniVersion === 'string' ? r.cniVersion : CNI_VERSION,
    interfaces: list<CniInterface>('interfaces'),
    ips: list<CniIPConfig>('ips'),
    routes: list<CniRoute>('routes'),
    dns: (r.dns as CniDNS | undefined) ?? {},
  };
}
