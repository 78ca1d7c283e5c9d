// time.Time's String() as Go prints it with %v:
// "2024-05-06 07:08:09.123456789 +0000 UTC m=+0.012345678" (fraction without trailing zeros,
// then the monotonic reading since the process started).

export function goTimeString(epochNs: bigint, monotonicSeconds: number): string {
  const ms = Number(epochNs / 1_000_000n);
  const fractionNs = Number(epochNs % 1_000_000_000n);
  const d = new Date(ms);
  const offsetMin = -d.getTimezoneOffset();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const clock = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const fraction = fractionNs === 0 ? '' : `.${p(fractionNs, 9).replace(/0+$/, '')}`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
  // Go names the zone by its abbreviation; without tzdata for the zone it prints the offset instead.
  const zone = offsetMin === 0 ? 'UTC' : `${sign}${p(Math.floor(abs / 60))}${abs % 60 ? p(abs % 60) : ''}`;
  return `${date} ${clock}${fraction} ${offset} ${zone} m=+${monotonicSeconds.toFixed(9)}`;
}

/** Wall-clock now in nanoseconds (microsecond resolution). */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
