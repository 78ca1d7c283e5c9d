// Stand-in for the nginx image's default server: the stock "Welcome to nginx!" page at / and
// /index.html, nginx's own 404 / 405 pages, conditional GETs, and an access log line per request
// in the image's "main" format on stdout. `--port` (default 80) is kemu's own flag for tests.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { parseFlags } from './flags.js';
import { unmapIPv4 } from './go-http.js';
import { closeServer, listenTcp, onTermination } from './lifecycle.js';

export const nginxVersion = 'nginx/1.27.0';

const indexHtml = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

// The image's index.html was written when 1.27.0 was built; its ETag is "<mtime hex>-<size hex>".
const indexMtime = new Date('2024-05-28T13:22:30Z');
const indexEtag = `"${(indexMtime.getTime() / 1000).toString(16)}-${Buffer.byteLength(indexHtml).toString(16)}"`;

/** nginx's built-in error page for a status (CRLF line ends, as nginx sends them). */
export function nginxErrorPage(status: number, reason: string): string {
  const title = `${status} ${reason}`;
  return [
    '<html>',
    `<head><title>${title}</title></head>`,
    '<body>',
    `<center><h1>${title}</h1></center>`,
    `<hr><center>${nginxVersion}</center>`,
    '</body>',
    '</html>',
    '',
  ].join('\r\n');
}

const flagSpec = { port: { kind: 'int', default: 80 } } as const;

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags(args, flagSpec);
  const server = http.createServer((req, res) => {
    serve(req, res);
    res.once('finish', () => accessLog(req, res));
  });
  onTermination(() => closeServer(server));
  await listenTcp(server, flags.port);
  process.stdout.write('/docker-entrypoint.sh: Configuration complete; ready for start up\n');
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Server', nginxVersion);
  res.setHeader('Date', new Date().toUTCString());
  const path = (req.url ?? '/').split('?')[0]!;
  if (path !== '/' && path !== '/index.html') return sendPage(req, res, 404, 'Not Found');
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendPage(req, res, 405, 'Not Allowed');
  const notModified =
    req.headers['if-none-match'] === indexEtag || req.headers['if-modified-since'] === indexMtime.toUTCString();
  res.setHeader('Content-Type', 'text/html');
  if (!notModified) res.setHeader('Content-Length', Buffer.byteLength(indexHtml));
  res.setHeader('Last-Modified', indexMtime.toUTCString());
  keepAliveHeader(res);
  res.setHeader('ETag', indexEtag);
  if (notModified) {
    res.removeHeader('Content-Type');
    res.writeHead(304);
    return void res.end();
  }
  res.setHeader('Accept-Ranges', 'bytes');
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : indexHtml);
}

function sendPage(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  const page = nginxErrorPage(status, reason);
  res.setHeader('Content-Type', 'text/html');
  res.setHeader('Content-Length', Buffer.byteLength(page));
  keepAliveHeader(res);
  res.writeHead(status);
  res.end(req.method === 'HEAD' ? undefined : page);
}

/** nginx says "Connection: keep-alive" and, unlike Node, sends no Keep-Alive header. */
function keepAliveHeader(res: ServerResponse): void {
  if (res.shouldKeepAlive) res.setHeader('Connection', 'keep-alive');
}

function accessLog(req: IncomingMessage, res: ServerResponse): void {
  const quoted = (v: string | string[] | undefined) => (typeof v === 'string' && v !== '' ? v : '-');
  const sent = Number(res.getHeader('Content-Length') ?? 0);
  const line = `${unmapIPv4(req.socket.remoteAddress ?? '-')} - - [${nginxTime(new Date())}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${req.method === 'HEAD' ? 0 : sent} "${quoted(req.headers.referer)}" "${quoted(req.headers['user-agent'])}" "${quoted(req.headers['x-forwarded-for'])}"\n`;
  process.stdout.write(line);
}

/** $time_local: 02/Jan/2006:15:04:05 -0700 */
function nginxTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${p(d.getDate())}/${months[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}
