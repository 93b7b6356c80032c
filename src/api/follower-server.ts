// What a server that does not lead answers: its health (saying who leads), and every other
// request forwarded to the leader as it came, answer and all (an event stream too). Agents are not
// forwarded: they are told where the leader is, and dial it themselves, so that the leader holds
// their connections and a follower never relays a command. With no leader to forward to it says
// so (503, Retry-After), never a guess.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Leader } from '../store/leadership.ts';
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
}

export const LEADER_HEADER = 'x-vws-leader';
const RETRY_AFTER_SECONDS = 2;

export interface FollowerServer {
  address: string;
  close(): Promise<void>;
}

export async function startFollower(opts: FollowerOptions, host: string, port: number): Promise<FollowerServer> {
  const handler = (req: IncomingMessage, res: ServerResponse): void => answer(opts, req, res);
  const server = opts.tls ? https.createServer({ ...opts.tls }, handler) : http.createServer(handler);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const leader = opts.leader();
    const body = JSON.stringify(leader
      ? { code: 'no-leader', message: `this server follows; the leader is ${leader.address}: dial it`, leader: leader.address }
      : { code: 'no-leader', message: 'no server leads the store right now (a takeover is under way): dial again shortly' });
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: ${RETRY_AFTER_SECONDS}\r\n${leader ? `${LEADER_HEADER}: ${leader.address}\r\n` : ''}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${opts.tls ? 'https' : 'http'}://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Forwarded event streams would hold the port: they end, and their clients reconnect to the new leader.
      server.closeAllConnections();
    }),
  };
}

function answer(opts: FollowerOptions, req: IncomingMessage, res: ServerResponse): void {
  const leader = opts.leader();
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'GET' && path === '/v1/health') {
    return send(res, 200, { status: 'ok', version: opts.version, role: 'follower', server: opts.name, leader: leader ? { name: leader.holder, address: leader.address, epoch: leader.epoch } : null });
  }
  if (!leader) return refuse(res, 'no-leader', 'no server leads the store right now (a takeover is under way): nothing was done; retry shortly', true);
  forward(opts, leader, req, res);
}

function forward(opts: FollowerOptions, leader: Leader, req: IncomingMessage, res: ServerResponse): void {
  const target = new URL(req.url ?? '/', leader.address);
  const headers = { ...req.headers, host: target.host, 'x-forwarded-for': req.socket.remoteAddress ?? '', 'x-vws-forwarded-by': opts.name };
  const send = target.protocol === 'https:' ? https.request : http.request;
  let sent = false;
  const out = send(target, { method: req.method, headers, ...(opts.ca ? { ca: opts.ca } : {}) }, (back) => {
    res.writeHead(back.statusCode ?? 502, { ...back.headers, [LEADER_HEADER]: leader.address });
    back.pipe(res);
    back.on('error', () => res.destroy());
  });
  // Written into once connected: until then nothing of the request has reached the leader.
  // A kept-alive socket is connected already (and would gather a listener per request that never fires).
  out.on('socket', (socket) => {
    if (!socket.connecting) sent = true;
    else socket.once('connect', () => (sent = true));
  });
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (res.headersSent) return void res.destroy();
    if (!sent) return refuse(res, 'no-leader', `the leader at ${leader.address} cannot be reached (${e.code ?? e.message}): nothing was done; retry shortly`, true);
    refuse(res, 'leader-lost', `the leader at ${leader.address} went away while answering (${e.code ?? e.message}): the request may or may not have been carried out; retry it with the same Idempotency-Key, or look before retrying`, false);
  });
  req.pipe(out);
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
