// Reading request bodies and writing JSON responses. Every error the API returns goes out as a
// meta/v1 Status whose code is also the HTTP status, as kube-apiserver does.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, internalError, isApiError } from '../errors.js';
import { jsonOf } from '../store/frozen.js';
import type { Status } from '../types.js';

/** kube-apiserver's request body limit (3 MiB). */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

function tooLarge(): ApiError {
  const message = `Request entity too large: limit is ${MAX_BODY_BYTES}`;
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'RequestEntityTooLarge', code: 413 });
}

/** The request body as text (plain listeners: an async iterator per request costs more than the read). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (buf: Buffer): void => {
      size += buf.length;
      if (size <= MAX_BODY_BYTES) chunks.push(buf);
      else {
        req.off('data', onData);
        // the rest is read and dropped, so the 413 can still be sent on this connection
        req.resume();
        reject(tooLarge());
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // after 'end' this changes nothing; without it, the client went away mid-body
    req.once('close', () => reject(new Error('the request body was cut off')));
  });
}

/** Parses a request body as JSON; a 400 naming the parse problem otherwise. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = jsonOf(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Any thrown value as the Status the client receives; unexpected ones become 500 InternalError. */
export function toStatus(err: unknown): Status {
  if (isApiError(err)) return err.status;
  return internalError(err instanceof Error ? err.message : String(err)).status;
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = toStatus(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status);
}
