// What every route handler is given: the server's options and its metrics. Its own file, so that
// the routes and the server that registers them do not import each other.

import type { EventEmitter } from 'node:events';
import type { ContextBroker } from '../broker/broker.ts';
import type { LeaseService } from '../control/lease-service.ts';
import type { PilotControl } from '../drivers/plugin.ts';
import type { AgentHub } from '../drivers/qemu/agent-hub.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { Store } from '../store/store.ts';
import type { Caller } from './auth.ts';
import type { Metrics } from './metrics.ts';

export interface ServerOptions {
  service: LeaseService;
  store: Store;
  version: string;
  /** Where uploaded image content is kept. */
  blobDir: string;
  now: () => number;
  https?: { cert: string; key: string };
  /** Log failures (the causes of 500s and 503s) to stderr: a server does; tests need not. */
  logger?: boolean;
  /** Where node agents connect, when VMs run on agents. */
  agents?: AgentHub;
  /** The pilots, when the nodes come from a batch system's pilot jobs. */
  pilots?: PilotControl;
  /** The context broker of cluster leases, when the service runs one: its routes are served then. */
  broker?: ContextBroker;
  /** Seals EC2 secret access keys: the EC2 credential routes are served when given. */
  secretBox?: SecretBox;
  /** Where several servers share the store: this one's part, added to GET /v1/health (role, leader). */
  leadership?: () => Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifySchema {
    tags?: string[];
    summary?: string;
  }
}

export interface ApiContext extends ServerOptions {
  metrics: Metrics;
  /**
   * Told whenever who may see what changes (a token revoked, a user disabled, a group's members
   * changed): open event streams check their caller again, so none outlives its rights.
   */
  rightsChanged: EventEmitter<{ changed: [] }>;
}
