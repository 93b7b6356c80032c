// What a follower answers itself, from the store: the lease reads (routes/lease-reads.ts), with the
// same validation, tokens and error format as the leader's (api-app.ts). Everything else it hands
// to the leader (follower-server.ts).

import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerFactory } from 'fastify';
import { guardStore } from '../store/store-failure.ts';
import type { Store } from '../store/store.ts';
import { apiApp } from './api-app.ts';
import { registerLeaseReads, storedFigures } from './routes/lease-reads.ts';

export interface FollowerReadOptions {
  store: Store;
  now: () => number;
  serverFactory: FastifyServerFactory;
  /** Answers what the store cannot (the leader does). */
  elsewhere: (req: FastifyRequest, reply: FastifyReply) => void;
}

/** GET (and HEAD) of a lease, the list, or its workspaces: the paths registerLeaseReads serves. */
const STORE_READ = /^\/v1\/leases(?:\/[^/]+(?:\/workspaces(?:\/[^/]+)?)?)?$/;

export function isStoreRead(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = (url ?? '/').split('?', 1)[0];
  return STORE_READ.test(path);
}

export function buildFollowerReads(opts: FollowerReadOptions): FastifyInstance {
  const store = guardStore(opts.store);
  const app = apiApp({ store, now: opts.now, logger: true, serverFactory: opts.serverFactory });
  registerLeaseReads(app, { store, now: opts.now, figures: storedFigures, elsewhere: opts.elsewhere });
  return app;
}
