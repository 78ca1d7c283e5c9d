// Apache's APR1-MD5 password hash ($apr1$salt$hash), the default of `htpasswd`: the md5-crypt
// scheme with the magic string $apr1$ (1000 rounds of MD5 mixing password, salt and the previous
// digest, then a custom base-64 of the 16 digest bytes in a fixed order).

import { createHash } from 'node:crypto';

const MAGIC = '$apr1$';
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function md5(...parts: (Buffer | string)[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

function to64(value: number, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++, value >>= 6) out += ITOA64[value & 0x3f];
  return out;
}

export function apr1(password: string, salt: string): string {
  const pw = Buffer.from(password);
  const s = salt.split('$')[0]!.slice(0, 8);
  const alt = md5(pw, s, pw);
  const h = createHash('md5').update(pw).update(MAGIC).update(s);
  for (let left = pw.length; left > 0; left -= 16) h.update(alt.subarray(0, Math.min(16, left)));
  for (let i = pw.length; i > 0; i >>= 1) h.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let digest: Buffer = h.digest();
  for (let i = 0; i < 1000; i++) {
    const parts: (Buffer | string)[] = [i & 1 ? pw : digest];
    if (i % 3) parts.push(s);
    if (i % 7) parts.push(pw);
    parts.push(i & 1 ? digest : pw);
    digest = md5(...parts);
  }
  const d = digest;
  const encoded =
    to64((d[0]! << 16) | (d[6]! << 8) | d[12]!, 4) +
    to64((d[1]! << 16) | (d[7]! << 8) | d[13]!, 4) +
    to64((d[2]! << 16) | (d[8]! << 8) | d[14]!, 4) +
    to64((d[3]! << 16) | (d[9]! << 8) | d[15]!, 4) +
    to64((d[4]! << 16) | (d[10]! << 8) | d[5]!, 4) +
    to64(d[11]!, 2);
  return `${MAGIC}${s}$${encoded}`;
}
