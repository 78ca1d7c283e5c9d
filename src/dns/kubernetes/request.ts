// The query-name grammar of CoreDNS's kubernetes plugin (parse.go): what is left of the name once
// the zone is cut off, read right to left as  [endpoint | _port._proto].service.namespace.svc|pod.

export interface RecordRequest {
  /** 'svc', 'pod' or '' (the zone apex, `svc` or `pod` alone: a name without data) */
  podOrSvc: '' | 'svc' | 'pod';
  namespace: string;
  service: string;
  endpoint: string;
  port: string;
  protocol: string;
}

const stripUnderscore = (s: string): string => (s.startsWith('_') ? s.slice(1) : s);

/** `name` and `zone` are absolute and lower case; undefined means the name cannot exist. */
export function parseRequest(name: string, zone: string): RecordRequest | undefined {
  const r: RecordRequest = { podOrSvc: '', namespace: '', service: '', endpoint: '', port: '', protocol: '' };
  const base = zone === '.' ? name.slice(0, -1) : name.slice(0, Math.max(0, name.length - zone.length - 1));
  if (base === '' || base === 'svc' || base === 'pod') return r;
  const segs = base.split('.');
  let last = segs.length - 1;
  const kind = segs[last];
  if (kind !== 'svc' && kind !== 'pod') return undefined;
  r.podOrSvc = kind;
  if (--last < 0) return r;
  r.namespace = segs[last]!;
  if (--last < 0) return r;
  r.service = segs[last]!;
  if (--last < 0) return r;
  if (last === 0) r.endpoint = segs[0]!;
  else if (last === 1) {
    r.protocol = stripUnderscore(segs[1]!);
    r.port = stripUnderscore(segs[0]!);
  } else return undefined;
  return r;
}

/** An empty query value matches anything; otherwise equal ignoring case. */
export const matches = (want: string, have: string): boolean => want === '' || want.toLowerCase() === have.toLowerCase();
