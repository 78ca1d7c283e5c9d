// Small value formatters shared by the table printers and describe.

/** `a=b,c=d` with keys sorted, as labels.FormatLabels; '<none>' when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/** The first `max` items joined by ',', then ` + N more...` as kubectl's listWithMoreString. */
export function listWithMore(items: string[], max: number): string {
  const shown = items.slice(0, max).join(',');
  return items.length > max ? `${shown} + ${items.length - max} more...` : shown;
}

/** IPs and hostnames of a load balancer status, comma-separated ('' when none). */
export function loadBalancerAddresses(status: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined): string {
  const out: string[] = [];
  for (const i of status?.loadBalancer?.ingress ?? []) {
    if (i.ip) out.push(i.ip);
    else if (i.hostname) out.push(i.hostname);
  }
  return out.join(',');
}

export function orNone(s: string | undefined): string {
  return s === undefined || s === '' ? '<none>' : s;
}
