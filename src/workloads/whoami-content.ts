// whoami's /data body: `size` bytes cycling through "-ABC…Z", framed by '|' at both ends
// (sizes 0 and 1 give an empty body, as upstream's reader does). Streamed with backpressure so
// a large size costs no memory.

import type { ServerResponse } from 'node:http';

const charset = '-ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const blockSize = 64 * 1024;

/** The bytes at positions [from, to) of the body of the given size. */
export function contentSlice(size: number, from: number, to: number): Buffer {
  const out = Buffer.alloc(Math.max(0, to - from));
  for (let pos = from; pos < to; pos++) {
    out[pos - from] = pos === 0 || pos === size - 1 ? 0x7c : charset.charCodeAt(pos % charset.length);
  }
  return out;
}

export async function writeContent(res: ServerResponse, size: number): Promise<void> {
  const total = size <= 1 ? 0 : size;
  if (total > 0) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', total);
  res.writeHead(200);
  if (res.req.method === 'HEAD') return void res.end();
  for (let from = 0; from < total && !res.destroyed; from += blockSize) {
    const ok = res.write(contentSlice(total, from, Math.min(total, from + blockSize)));
    if (!ok) {
      await new Promise((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  }
  res.end();
}
