// Node agents dial in here (GET /v1/agent, upgraded to a WebSocket) with an administrator's
// token: an agent runs VMs for every user, so it speaks for the site.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { AGENT_PATH } from '../drivers/qemu/protocol.ts';
import type { AgentHub } from '../drivers/qemu/agent-hub.ts';
import type { Store } from '../store/store.ts';
import { authenticate } from './auth.ts';

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ code: status === 401 ? 'unauthorized' : 'forbidden', message });
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function acceptAgents(app: FastifyInstance, hub: AgentHub, store: Store, now: () => number): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 << 20 });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== AGENT_PATH) return void socket.destroy();
    void authenticate(store, req.headers.authorization, now()).then((caller) => {
      if (!caller) return refuse(socket, 401, 'send a valid token as "Authorization: Bearer <token>"');
      if (!caller.user.isAdmin) return refuse(socket, 403, 'node agents need an administrator\'s token');
      wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws));
    }, () => socket.destroy());
  });
  app.addHook('onClose', async () => {
    hub.close();
    wss.close();
  });
}
