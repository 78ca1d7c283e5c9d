// The ingress-controller-conformance echo server (k8s.gcr.io/ingressconformance/echoserver):
// GET /health -> 200 "OK"; any other request -> the request as JSON (one-space indent, field
// order as upstream) plus the namespace / ingress / service / pod it runs for, from the env.
// Listens on HTTP_PORT (default 3000); the HTTPS listener of the image is not offered.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { goJson, goRequestHeader, redirectUncleanPath, requestPath, sendGo } from './go-http.js';
import { closeServer, listenTcp, onTermination } from './lifecycle.js';

export interface EchoContext {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

export function echoContext(env: NodeJS.ProcessEnv): EchoContext {
  return {
    namespace: env.NAMESPACE ?? '',
    ingress: env.INGRESS_NAME ?? '',
    service: env.SERVICE_NAME ?? '',
    pod: env.POD_NAME ?? '',
  };
}

/** The echo body for one request. */
export function echoBody(req: IncomingMessage, context: EchoContext): string {
  const doc = {
    path: req.url ?? '/',
    host: req.headers.host ?? '',
    method: req.method ?? 'GET',
    proto: `HTTP/${req.httpVersion}`,
    headers: goRequestHeader(req),
    ...context,
  };
  return goJson(doc, ' ');
}

/** Upstream takes no arguments and ignores any it is given. */
export async function run(): Promise<void> {
  const context = echoContext(process.env);
  const port = Number.parseInt(process.env.HTTP_PORT || process.env.PORT || '3000', 10);
  const server = http.createServer((req, res) => handle(req, res, context));
  onTermination(() => closeServer(server));
  await listenTcp(server, port);
  process.stdout.write(`Starting server, listening on port ${port}\n`);
}

function handle(req: IncomingMessage, res: ServerResponse, context: EchoContext): void {
  // Upstream collapses "//" before routing (the echoed path stays raw).
  const path = requestPath(req).replaceAll('//', '/');
  if (redirectUncleanPath(req, res, path)) return;
  // Drain any request body so keep-alive connections stay usable.
  req.resume();
  if (path === '/health') return sendGo(res, 200, 'OK');
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  sendGo(res, 200, echoBody(req, context));
}
