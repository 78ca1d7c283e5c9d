// BasicAuth: htpasswd-style "user:hash" entries; $apr1$ (htpasswd's default), {SHA} (base64
// SHA-1) and plain text are checked here, bcrypt is refused when the middleware is built. A failure answers
// 401 with WWW-Authenticate: Basic realm="<realm>" (default "traefik").

import { createHash, timingSafeEqual } from 'node:crypto';
import type { BasicAuthSpec } from '../config/types.js';
import { apr1 } from './apr1.js';
import { reply, type MiddlewareHandler } from '../proxy/context.js';

type Check = (password: string) => boolean;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checker(user: string, hash: string): Check {
  if (hash.startsWith('{SHA}')) {
    const want = hash.slice(5);
    return (pw) => sameText(createHash('sha1').update(pw).digest('base64'), want);
  }
  if (hash.startsWith('$apr1$')) {
    const salt = hash.slice(6).split('$')[0]!;
    return (pw) => sameText(apr1(pw, salt), hash);
  }
  if (hash.startsWith('$')) throw new Error(`basicAuth: user ${user}: hash format ${hash.split('$')[1]} is not supported (use htpasswd -m, -s or -p)`);
  return (pw) => sameText(pw, hash);
}

export function basicAuth(spec: BasicAuthSpec): MiddlewareHandler {
  const users = new Map<string, Check>();
  for (const entry of spec.users) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`basicAuth: invalid user entry ${JSON.stringify(entry)}`);
    users.set(entry.slice(0, colon), checker(entry.slice(0, colon), entry.slice(colon + 1)));
  }
  const realm = spec.realm ?? 'traefik';
  return async (ctx, next) => {
    const auth = ctx.req.headers.authorization ?? '';
    const m = /^Basic\s+(\S+)$/i.exec(auth);
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon > 0 ? decoded.slice(0, colon) : '';
    const ok = colon > 0 && (users.get(user)?.(decoded.slice(colon + 1)) ?? false);
    if (!ok) {
      reply(ctx, 401, '401 Unauthorized\n', { 'www-authenticate': `Basic realm="${realm}"` });
      return;
    }
    ctx.username = user;
    if (spec.headerField) ctx.upstreamHeaders[spec.headerField.toLowerCase()] = user;
    if (spec.removeHeader) delete ctx.upstreamHeaders.authorization;
    await next(ctx);
  };
}
