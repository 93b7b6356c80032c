// The server that decides: the lease service on the store, the drivers, the context broker and
// the API. Started once by a lone server (SQLite), and by each server of a shared store
// (PostgreSQL) whenever it becomes the leader; closed when it stops or steps down.

import { join } from 'node:path';
import { buildServer } from '../api/server.ts';
import { ContextBroker } from '../broker/broker.ts';
import { bootstrapAdmin } from '../api/auth.ts';
import { configWith } from '../core/config.ts';
import { leaseSeeds } from '../broker/lease-seeds.ts';
import { ClusterContexts } from '../broker/cluster-contexts.ts';
import { agentSha256 } from '../api/routes/context.ts';
import { wallClock } from '../control/clock.ts';
import { LeaseService } from '../control/lease-service.ts';
import type { DriverContext, DriverPlugin, OpenDriver } from '../drivers/plugin.ts';
import type { ServiceBackend } from '../control/service-backend.ts';
import type { Store } from '../store/store.ts';
import type { Terms } from '../core/terms.ts';
import { SecretBox } from '../store/secret-box.ts';
import { type Ec2Settings, startEc2 } from './ec2-serve.ts';
import { UsageError } from './usage-error.ts';

/** What vws serve was told, checked (./serve-command.ts). */
export interface ServeSettings {
  host: string;
  port: number;
  data: string;
  plugin: DriverPlugin;
  burstTo: DriverPlugin | null;
  burstAfter: number;
  guestUrl: string;
  vmNetwork?: string;
  clusterNetwork?: string;
  ec2Config?: string;
  pilotConfig?: string;
  nodes: number;
  nodeCpu: number;
  nodeMemory: number;
  /** The bandwidth each of those nodes leases, Mbit/s; absent: none. */
  nodeBandwidth?: number;
  ec2: Ec2Settings | null;
  terms?: { file: string; terms: Terms };
  https?: { cert: string; key: string };
  version: string;
  storeName: string;
}

export interface RunningLeader {
  address: string;
  /** Why the service stopped taking inputs (the store lost one it heard): a restart replays the log. */
  stoppedBy(): Error | null;
  close(): Promise<void>;
}

export async function startLeader(s: ServeSettings, store: Store, leadership?: () => Record<string, unknown>): Promise<RunningLeader> {
  const now = wallClock.now();
  const token = await bootstrapAdmin(store, now, process.env.VWS_BOOTSTRAP_TOKEN);
  // Cluster leases' context broker: its state and key live in the store, so a restart resumes it.
  // Opened before the driver, whose seeds carry each cluster member's secret from it.
  let contexts: ClusterContexts | null = null;
  const broker = await ContextBroker.open(store, wallClock, { onSettled: (view) => contexts?.settled(view) });
  contexts = new ClusterContexts(store, broker);
  const context: DriverContext = { store, dataDir: s.data, vmNetwork: s.vmNetwork, clusterNetwork: s.clusterNetwork, ec2Config: s.ec2Config, pilotConfig: s.pilotConfig, log: (line) => process.stderr.write(`${line}\n`), seeds: leaseSeeds(store, { contexts, guestUrl: s.guestUrl, agentSha256: agentSha256() }) };
  const opened = await openPlugin(s.plugin, context);
  const burst = s.burstTo ? await openPlugin(s.burstTo, context) : null;
  const backendOf = (name: string, o: OpenDriver): ServiceBackend => {
    const config = { ...o.config, ...(o.bootSeconds !== undefined ? { bootSeconds: o.bootSeconds } : {}) };
    return { name, driver: o.driver, billing: o.billing, ...(Object.keys(config).length > 0 ? { config } : {}), ...(o.refusesTerms ? { refusesTerms: (r) => o.refusesTerms!(r) } : {}) };
  };
  const backends: ServiceBackend[] = [backendOf(s.plugin.name, opened)];
  if (burst) backends.push(backendOf(s.burstTo!.name, burst));
  const service = await LeaseService.open({ store, backends, burst: { afterSeconds: s.burstAfter }, clock: wallClock, config: configWith({}) });
  const closeCore = async (): Promise<void> => {
    await service.close();
    for (const b of backends) await b.driver.close();
  };
  // The file's terms replace those in force (logged, as an administrator's change is); the same terms again change nothing.
  const put = s.terms ? await service.setTerms(s.terms.terms, `vws serve --terms ${s.terms.file}`) : null;
  if (put && !put.ok) {
    await closeCore();
    throw new UsageError(`--terms ${s.terms!.file}: ${put.message}`);
  }
  opened.bind?.(service.pool);
  const have = new Set((await store.listNodes()).map((n) => n.id));
  const addNodes = async (from: OpenDriver | null, backend: string): Promise<void> => {
    for (const node of from?.nodes ?? []) {
      if (have.has(node.id)) continue;
      const added = await service.pool.addNode(node, backend);
      if (!added.ok) throw new Error(`could not add the ${backend} driver's node ${node.id}: ${added.message}`);
    }
  };
  await addNodes(opened, s.plugin.name);
  // --nodes fills an empty pool: the nodes a burst back-end brings are not the pool's.
  if (s.nodes > 0 && (await store.listNodes()).length === 0) {
    for (let i = 1; i <= s.nodes; i++) {
      const added = await service.pool.addNode({ id: `sim-${i}`, cpu: s.nodeCpu, memoryMiB: s.nodeMemory, diskMiB: 100_000, ...(s.nodeBandwidth !== undefined ? { bandwidthMbps: s.nodeBandwidth } : {}) });
      if (!added.ok) throw new Error(`could not add simulated node sim-${i}: ${added.message}`);
    }
  }
  await addNodes(burst, s.burstTo?.name ?? '');
  const unwatch = await contexts.watch(service);
  const secretBox = new SecretBox(join(s.data, 'ec2-secret.key'));
  const app = buildServer({ service, store, version: s.version, blobDir: join(s.data, 'blobs'), now: () => wallClock.now(), https: s.https, agents: opened.agents, pilots: opened.pilots, broker, secretBox, leadership, logger: true });
  const address = await app.listen({ host: s.host, port: s.port });
  const ec2Server = s.ec2 ? await startEc2(s.ec2, { service, store, secretBox, now: () => wallClock.now() }) : null;
  // A token the operator gave (VWS_BOOTSTRAP_TOKEN) is theirs already: printing it would put it in logs.
  if (token && process.env.VWS_BOOTSTRAP_TOKEN) process.stdout.write('admin token: the one given in VWS_BOOTSTRAP_TOKEN\n');
  else if (token) process.stdout.write(`admin token (shown once): ${token}\n`);
  if (ec2Server) process.stdout.write(`EC2 Query API at ${ec2Server.url} (region ${s.ec2!.region})\n`);
  process.stdout.write(`vws ${s.version} serving ${address}/v1 (store ${s.storeName}, driver ${s.plugin.name}${s.burstTo ? `, bursting to ${s.burstTo.name}` : ''})\n`);
  return {
    address,
    stoppedBy: () => service.stoppedBy,
    close: async () => {
      await app.close();
      await ec2Server?.close();
      unwatch();
      await contexts.idle();
      broker.close();
      await closeCore();
    },
  };
}

async function openPlugin(plugin: DriverPlugin, context: DriverContext): Promise<OpenDriver> {
  try {
    return await plugin.open(context);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
