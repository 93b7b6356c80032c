// The node's context relay: cluster members on the private network only have no route to the
// service, but each reaches its own node at the cluster's context address (cluster-spec.ts). The
// relay there passes the context broker's guest routes on to the service, and nothing else: it
// adds no authority of its own (the guest's token travels as it came) and is no general proxy
// into the service or anywhere else.
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

/** The guest routes of src/api/routes/context.ts, by exact method and path. */
export const RELAYED_ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['POST', '/v1/context/exchange'],
  ['POST', '/v1/context/report'],
  ['GET', '/v1/context'],
  ['POST', '/v1/context/done'],
  ['GET', '/v1/context/agent'],
];

/** The guest requests are small JSON documents; anything larger is not one of them. */
export const MAX_RELAYED_BODY = 64 * 1024;
/** Longer than any guest route takes; a guard against a hung upstream, not a tuning knob. */
export const RELAY_TIMEOUT_MS = 30_000;

const FORWARDED_REQUEST_HEADERS = ['authorization', 'content-type'] as const;
const RETURNED_HEADERS = ['content-type', 'x-vws-signature', 'cache-control'] as const;

export interface ContextRelayOptions {
  /** The service's base URL (vws agent --server). */
  upstream: string;
  /** The CA the service's certificate is checked against (vws agent --ca), for https. */
  ca?: string;
  timeoutMs?: number;
}

/** Where the relay listens: a TCP port (production) or a Unix socket (behind a namespace's forwarder). */
export type RelayListen = { host: string; port: number } | { socket: string };

const routeList = RELAYED_ROUTES.map(([m, p]) => `${m} ${p}`).join(', ');

export class ContextRelay {
  private constructor(private readonly server: Server, private readonly socket?: string) {}

  static async listen(opts: ContextRelayOptions, at: RelayListen): Promise<ContextRelay> {
    const upstream = new URL(opts.upstream);
    if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw new Error(`the context relay forwards to an http(s) service URL, got '${opts.upstream}'`);
    const timeoutMs = opts.timeoutMs ?? RELAY_TIMEOUT_MS;
    const server = createServer((req, res) => relay(req, res, upstream, opts.ca, timeoutMs));
    // A guest that sends its request slowly holds only its own connection, and not for ever.
    server.requestTimeout = timeoutMs;
    server.headersTimeout = timeoutMs;
    // A socket left by a relay that did not close (a crashed agent) would refuse the bind.
    if ('socket' in at) rmSync(at.socket, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if ('socket' in at) server.listen(at.socket, done);
      else server.listen(at.port, at.host, done);
    }).catch((e: Error) => {
      const where = 'socket' in at ? at.socket : `${at.host}:${at.port}`;
      throw new Error(`the context relay cannot listen on ${where}: ${e.message} (another relay or program holds it? vws agent --context-relay off runs without one)`, { cause: e });
    });
    return new ContextRelay(server, 'socket' in at ? at.socket : undefined);
  }

  /** The TCP port it listens on (for tests that ask for port 0). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.socket) rmSync(this.socket, { force: true });
  }
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ code, message });
  // The request may not have been read to its end (a body too large): the connection cannot be reused.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

function relay(req: IncomingMessage, res: ServerResponse, upstream: URL, ca: string | undefined, timeoutMs: number): void {
  const url = req.url ?? '/';
  const path = url.split('?')[0];
  if (!RELAYED_ROUTES.some(([m, p]) => m === req.method && p === path)) {
    answer(res, 404, 'not-found', `the context relay forwards only the context broker's guest routes (${routeList}), not ${req.method} ${path}`);
    return;
  }
  const tooLarge = (): void => answer(res, 413, 'too-large', `the body is larger than the context relay takes (${MAX_RELAYED_BODY} bytes): a context request is a small JSON document`);
  if (Number(req.headers['content-length'] ?? 0) > MAX_RELAYED_BODY) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > MAX_RELAYED_BODY) {
      refused = true;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (!refused) forward(req.method!, url, Buffer.concat(chunks), req, res, upstream, ca, timeoutMs);
  });
}

function forward(method: string, url: string, body: Buffer, req: IncomingMessage, res: ServerResponse, upstream: URL, ca: string | undefined, timeoutMs: number): void {
  const target = new URL(upstream.href.replace(/\/+$/, '') + url);
  const headers: Record<string, string | number> = {};
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  if (method !== 'GET' || body.length > 0) headers['content-length'] = body.length;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const out = send(target, { method, headers, ...(ca ? { ca } : {}) });
  const timer = setTimeout(() => {
    out.destroy(new Error('timeout'));
  }, timeoutMs);
  const finish = (): void => clearTimeout(timer);
  out.on('response', (up) => {
    const back: Record<string, string> = {};
    for (const h of RETURNED_HEADERS) {
      const v = up.headers[h];
      if (typeof v === 'string') back[h] = v;
    }
    res.writeHead(up.statusCode ?? 502, back);
    up.pipe(res);
    up.on('end', finish);
    up.on('error', () => {
      finish();
      res.destroy();
    });
  });
  out.on('error', (e) => {
    finish();
    if (e.message === 'timeout') answer(res, 504, 'gateway-timeout', `the service at ${upstream.origin} did not answer ${method} ${target.pathname} within ${timeoutMs} ms: try again later`);
    else answer(res, 502, 'bad-gateway', `the context relay could not reach the service at ${upstream.origin} (${(e as NodeJS.ErrnoException).code ?? e.message}): the node cannot reach it now; try again later`);
  });
  // A guest that goes away takes its upstream request with it.
  res.on('close', () => {
    finish();
    if (!res.writableFinished) out.destroy();
  });
  out.end(body);
}
