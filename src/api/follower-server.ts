// What a server that does not lead answers: its health (saying who leads), the lease reads from
// the store (follower-reads.ts), and every other request forwarded to the leader as it came,
// answer and all (an event stream too). Agents are not
// forwarded: they are told where the leader is, and dial it themselves, so that the leader holds
// their connections and a follower never relays a command. With no leader to forward to it says
// so (503, Retry-After), never a guess.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Leader } from '../store/leadership.ts';
import type { Store } from '../store/store.ts';
import { buildFollowerReads, isStoreRead } from './follower-reads.ts';
import { JSON_BODY_LIMIT } from './api-app.ts';

/** The one route whose body may be larger than JSON_BODY_LIMIT. */
const IMAGE_CONTENT = /^\/v1\/images\/[^/]+\/content$/;
import type { RefusalCode } from '../control/refusal.ts';
import { REFUSAL_STATUS } from './refusal-status.ts';

export interface FollowerOptions {
  version: string;
  /** This server's name, as it would stand in the leadership. */
  name: string;
  /** The leader now, as the server last read it (null: none, or its term ran out). */
  leader: () => Leader | null;
  tls?: { cert: string; key: string };
  /** Trusted CA of the leader's certificate, where the site signs its own. */
  ca?: string;
  /** Where the lease reads are answered from. */
  store: Store;
  now: () => number;
}

export const LEADER_HEADER = 'x-vws-leader';
const RETRY_AFTER_SECONDS = 2;

export interface FollowerServer {
  address: string;
  close(): Promise<void>;
}

export async function startFollower(opts: FollowerOptions, host: string, port: number): Promise<FollowerServer> {
  let server: http.Server | https.Server | undefined;
  const app = buildFollowerReads({
    store: opts.store, now: opts.now,
    serverFactory: (reads) => {
      // A request without Host is refused as the leader refuses it (api-app.ts), not forwarded with one added.
      const here = (req: IncomingMessage): boolean => isStoreRead(req.method, req.url) || (req.httpVersion === '1.1' && req.headers.host === undefined);
      const handler = (req: IncomingMessage, res: ServerResponse): void => (here(req) ? reads(req, res) : answer(opts, req, res));
      server = opts.tls ? https.createServer({ ...opts.tls, requireHostHeader: false }, handler) : http.createServer({ requireHostHeader: false }, handler);
      return server;
    },
    elsewhere: (req, reply) => {
      reply.hijack();
      const leader = opts.leader();
      if (!leader) return refuse(reply.raw, 'no-leader', 'this server cannot answer it from the store, and no server leads right now (a takeover is under way): retry shortly', true);
      forward(opts, leader, req.raw, reply.raw, 'none');
    },
  });
  server!.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const leader = opts.leader();
    const body = JSON.stringify(leader
      ? { code: 'no-leader', message: `this server follows; the leader is ${leader.address}: dial it`, leader: leader.address }
      : { code: 'no-leader', message: 'no server leads the store right now (a takeover is under way): dial again shortly' });
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: ${RETRY_AFTER_SECONDS}\r\n${leader ? `${LEADER_HEADER}: ${leader.address}\r\n` : ''}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  await app.listen({ host, port });
  const bound = server!.address() as AddressInfo;
  return {
    address: `${opts.tls ? 'https' : 'http'}://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: async () => {
      // Forwarded event streams would hold the port: they end, and their clients reconnect to the new leader.
      server!.closeAllConnections();
      await app.close();
    },
  };
}

function answer(opts: FollowerOptions, req: IncomingMessage, res: ServerResponse): void {
  const leader = opts.leader();
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'GET' && path === '/v1/health') {
    return send(res, 200, { status: 'ok', version: opts.version, role: 'follower', server: opts.name, leader: leader ? { name: leader.holder, address: leader.address, epoch: leader.epoch } : null });
  }
  if (!leader) return refuse(res, 'no-leader', 'no server leads the store right now (a takeover is under way): nothing was done; retry shortly', true);
  // A body the leader will not read (it refuses a JSON body this large from its Content-Length,
  // after its checks of token and route) is not sent: sending it, the follower saw the leader hang
  // up mid-body (EPIPE) instead of its answer.
  const declared = Number(req.headers['content-length'] ?? 0);
  forward(opts, leader, req, res, declared > JSON_BODY_LIMIT && !IMAGE_CONTENT.test(path) ? 'withhold' : 'pipe');
}

/**
 * How the request's body goes to the leader: piped as it comes; none (it was read here already, or
 * there is none); or withheld (the leader answers without it, and the connections are then closed).
 */
type BodyMode = 'pipe' | 'none' | 'withhold';

function forward(opts: FollowerOptions, leader: Leader, req: IncomingMessage, res: ServerResponse, body: BodyMode = 'pipe'): void {
  const target = new URL(req.url ?? '/', leader.address);
  const headers = { ...req.headers, host: target.host, 'x-forwarded-for': req.socket.remoteAddress ?? '', 'x-vws-forwarded-by': opts.name };
  if (body === 'none') {
    delete headers['content-length'];
    delete headers['transfer-encoding'];
  }
  const send = target.protocol === 'https:' ? https.request : http.request;
  let sent = false;
  let answered = false;
  const out = send(target, { method: req.method, headers, ...(opts.ca ? { ca: opts.ca } : {}) }, (back) => {
    res.writeHead(back.statusCode ?? 502, { ...back.headers, [LEADER_HEADER]: leader.address, ...(body === 'withhold' ? { connection: 'close' } : {}) });
    back.pipe(res);
    back.on('error', () => res.destroy());
    // The leader waits for a body it was promised and will never get: its connection is done with.
    if (body === 'withhold') back.on('end', () => { answered = true; out.destroy(); });
  });
  // Written into once connected: until then nothing of the request has reached the leader.
  // A kept-alive socket is connected already (and would gather a listener per request that never fires).
  out.on('socket', (socket) => {
    if (!socket.connecting) sent = true;
    else socket.once('connect', () => (sent = true));
  });
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (answered) return;
    if (res.headersSent) return void res.destroy();
    if (!sent) return refuse(res, 'no-leader', `the leader at ${leader.address} cannot be reached (${e.code ?? e.message}): nothing was done; retry shortly`, true);
    refuse(res, 'leader-lost', `the leader at ${leader.address} went away while answering (${e.code ?? e.message}): the request may or may not have been carried out; retry it with the same Idempotency-Key, or look before retrying`, false);
  });
  if (body === 'pipe') req.pipe(out);
  else if (body === 'none') out.end();
  else out.flushHeaders();
  req.on('aborted', () => out.destroy());
}

function refuse(res: ServerResponse, code: RefusalCode, message: string, retry: boolean): void {
  if (retry) res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
  send(res, REFUSAL_STATUS[code], { code, message });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
