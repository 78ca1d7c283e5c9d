// Ages the way kubectl prints them (k8s.io/apimachinery/pkg/util/duration.HumanDuration): precise
// when recent, coarser as they grow — 45s, 3m12s, 10m, 5h3m, 3d4h, 400d, 3y20d.

export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  // Up to two seconds in the future is clock skew between machines, not an error.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRest(big: number, bigUnit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${rest}${restUnit}`;
}

/** The AGE column: time since an RFC 3339 timestamp, '<unknown>' when there is none. */
export function age(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}
