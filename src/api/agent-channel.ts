// Node agents dial in here (GET /v1/agent, upgraded to a WebSocket) with an administrator's
// token: an agent runs VMs for every user, so it speaks for the site.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { AGENT_PATH } from '../drivers/qemu/protocol.ts';
import type { AgentHub } from '../drivers/qemu/agent-hub.ts';
import type { Store } from '../store/store.ts';
import { STATUS_CODES } from 'node:http';
import type { RefusalCode } from '../control/refusal.ts';
import { authenticate } from './auth.ts';
import { REFUSAL_STATUS } from './refusal-status.ts';

/** An HTTP answer on the raw socket of an upgrade, which Fastify's error handler never sees. */
function refuse(socket: Duplex, code: RefusalCode, message: string): void {
  const status = REFUSAL_STATUS[code];
  const body = JSON.stringify({ code, message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function acceptAgents(app: FastifyInstance, hub: AgentHub, store: Store, now: () => number): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 << 20 });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== AGENT_PATH) return void socket.destroy();
    void authenticate(store, req.headers.authorization, now()).then((caller) => {
      if (!caller) return refuse(socket, 'unauthorized', 'send a valid token as "Authorization: Bearer <token>"');
      if (!caller.user.isAdmin) return refuse(socket, 'forbidden', 'node agents need an administrator\'s token');
      wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws, `the agent at ${req.socket.remoteAddress ?? 'an unknown address'}`));
    }, (e: Error) => refuse(socket, 'store-unavailable', `could not check the token: ${e.message}`));
  });
  // Before the server closes, not after: it waits for every connection to end, the agents' too,
  // and a leader stepping down waited for them to time out (its calls to them pending meanwhile).
  app.addHook('preClose', async () => {
    hub.close();
    wss.close();
  });
}
