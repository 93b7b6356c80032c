import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
import { DEFAULT_BURST_POLICY } from '../core/bursting.ts';
import { LONGEST_SECONDS } from '../core/limits.ts';
import { DEFAULT_DRIVER, DRIVERS, driverNamed } from '../drivers/registry.ts';
import { openStore } from '../store/open-store.ts';
import { numberOption, positive, positiveInteger } from './options.ts';
import { UsageError } from './usage-error.ts';
import { SecretBox } from '../store/secret-box.ts';
import { type Ec2Flags, ec2Settings, startEc2 } from './ec2-serve.ts';
import { readTermsFile } from './terms-file.ts';

/** The options of vws serve by long name, as ./program.ts parsed them (they are described in ./local-commands.ts). */
export interface ServeOptions extends Ec2Flags {
  listen?: string; data?: string; store?: string; driver?: string; 'burst-to'?: string; 'burst-after'?: string; 'ec2-config'?: string; 'vm-network'?: string; 'cluster-network'?: string; 'guest-url'?: string;
  nodes?: string; 'node-cpu'?: string; 'node-memory'?: string; 'tls-cert'?: string; 'tls-key'?: string; terms?: string;
}

export async function serveCommand(v: ServeOptions): Promise<number> {
  const [host, portText] = (v.listen ?? '127.0.0.1:8080').split(/:(?=\d+$)/);
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--listen must be HOST:PORT, got '${v.listen}'`);
  const driverName = v.driver ?? DEFAULT_DRIVER;
  let plugin;
  try {
    plugin = driverNamed(driverName);
  } catch (e) {
    throw new UsageError(`--driver: ${(e as Error).message}`);
  }
  if (plugin.nodesJoin && v.nodes !== undefined) throw new UsageError(`--nodes adds nodes by hand; with --driver ${plugin.name}, ${plugin.nodesJoin}`);
  const burstTo = burstPlugin(v, plugin);
  for (const option of ['vm-network', 'cluster-network', 'ec2-config'] as const) {
    if (v[option] !== undefined && !plugin.options.includes(option) && !burstTo?.options.includes(option)) {
      throw new UsageError(`--${option} is not an option of --driver ${plugin.name}${burstTo ? ` nor of --burst-to ${burstTo.name}` : ''}`);
    }
  }
  const burstAfter = numberOption('burst-after', v['burst-after'], DEFAULT_BURST_POLICY.afterSeconds, (n) => Number.isInteger(n) && n >= 0 && n <= LONGEST_SECONDS, `whole seconds from 0 to ${LONGEST_SECONDS}`);
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const guestUrl = guestUrlOf(v['guest-url'], host, port, v['tls-cert'] !== undefined);
  const data = resolve(v.data ?? 'vws-data');
  const nodes = numberOption('nodes', v.nodes, 0, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0');
  const nodeCpu = numberOption('node-cpu', v['node-cpu'], 4, positive, 'a positive number');
  const nodeMemory = numberOption('node-memory', v['node-memory'], 8192, positiveInteger, 'a positive number of MiB');
  const ec2 = ec2Settings(v);
  const terms = v.terms === undefined ? undefined : readTermsFile(v.terms);

  // vws's own directory (store, image content, driver state): the service's user's alone.
  mkdirSync(data, { recursive: true, mode: 0o700 });
  chmodSync(data, 0o700);
  const store = await openStore(v.store ?? join(data, 'vws.db'));
  const taken = await store.claimForServer();
  if (taken) {
    await store.close();
    throw new UsageError(taken);
  }
  const now = wallClock.now();
  const token = await bootstrapAdmin(store, now, process.env.VWS_BOOTSTRAP_TOKEN);
  // Cluster leases' context broker: its state and key live in the store, so a restart resumes it.
  // Opened before the driver, whose seeds carry each cluster member's secret from it.
  let contexts: ClusterContexts | null = null;
  const broker = await ContextBroker.open(store, wallClock, { onSettled: (view) => contexts?.settled(view) });
  contexts = new ClusterContexts(store, broker);
  const context: DriverContext = { store, dataDir: data, vmNetwork: v['vm-network'], clusterNetwork: v['cluster-network'], ec2Config: v['ec2-config'], log: (line) => process.stderr.write(`${line}\n`), seeds: leaseSeeds(store, { contexts, guestUrl, agentSha256: agentSha256() }) };
  const opened = await openPlugin(plugin, context);
  const burst = burstTo ? await openPlugin(burstTo, context) : null;
  const backends: ServiceBackend[] = [{ name: plugin.name, driver: opened.driver, billing: opened.billing }];
  if (burst) backends.push({ name: burstTo!.name, driver: burst.driver, billing: burst.billing, ...(burst.bootSeconds !== undefined ? { config: { bootSeconds: burst.bootSeconds } } : {}) });
  const service = await LeaseService.open({ store, backends, burst: { afterSeconds: burstAfter }, clock: wallClock, config: configWith({}) });
  // The file's terms replace those in force (logged, as an administrator's change is); the same terms again change nothing.
  const put = terms ? await service.setTerms(terms, `vws serve --terms ${v.terms}`) : null;
  if (put && !put.ok) {
    await service.close();
    await store.close();
    throw new UsageError(`--terms ${v.terms}: ${put.message}`);
  }
  opened.bind?.(service);
  const have = new Set((await store.listNodes()).map((n) => n.id));
  const addNodes = async (from: OpenDriver | null, backend: string): Promise<void> => {
    for (const node of from?.nodes ?? []) {
      if (have.has(node.id)) continue;
      const added = await service.addNode(node, backend);
      if (!added.ok) throw new Error(`could not add the ${backend} driver's node ${node.id}: ${added.message}`);
    }
  };
  await addNodes(opened, plugin.name);
  // --nodes fills an empty pool: the nodes a burst back-end brings are not the pool's.
  if (nodes > 0 && (await store.listNodes()).length === 0) {
    for (let i = 1; i <= nodes; i++) {
      const added = await service.addNode({ id: `sim-${i}`, cpu: nodeCpu, memoryMiB: nodeMemory, diskMiB: 100_000 });
      if (!added.ok) throw new Error(`could not add simulated node sim-${i}: ${added.message}`);
    }
  }
  await addNodes(burst, burstTo?.name ?? '');
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const https = v['tls-cert'] ? { cert: readFileSync(v['tls-cert']!, 'utf8'), key: readFileSync(v['tls-key']!, 'utf8') } : undefined;
  const unwatch = await contexts.watch(service);
  const secretBox = new SecretBox(join(data, 'ec2-secret.key'));
  const app = buildServer({ service, store, version, blobDir: join(data, 'blobs'), now: () => wallClock.now(), https, agents: opened.agents, broker, secretBox });
  const address = await app.listen({ host, port });
  const ec2Server = ec2 ? await startEc2(ec2, { service, store, secretBox, now: () => wallClock.now() }) : null;
  // A token the operator gave (VWS_BOOTSTRAP_TOKEN) is theirs already: printing it would put it in logs.
  if (token && process.env.VWS_BOOTSTRAP_TOKEN) process.stdout.write('admin token: the one given in VWS_BOOTSTRAP_TOKEN\n');
  else if (token) process.stdout.write(`admin token (shown once): ${token}\n`);
  if (ec2Server) process.stdout.write(`EC2 Query API at ${ec2Server.url} (region ${ec2!.region})\n`);
  process.stdout.write(`vws ${version} serving ${address}/v1 (store ${v.store ? 'postgres' : join(data, 'vws.db')}, driver ${driverName}${burstTo ? `, bursting to ${burstTo.name}` : ''})\n`);
  await new Promise<void>((done) => {
    const stop = (): void => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  await ec2Server?.close();
  unwatch();
  await contexts.idle();
  broker.close();
  await service.close();
  for (const b of backends) await b.driver.close();
  await store.close();
  return 0;
}

/** The back-end leases may burst to (--burst-to): a driver other than the pool's that brings its own nodes. */
function burstPlugin(v: ServeOptions, pool: DriverPlugin): DriverPlugin | null {
  if (v['burst-to'] === undefined) {
    if (v['burst-after'] !== undefined) throw new UsageError('--burst-after goes with --burst-to: name the back-end leases may burst to (e.g. --burst-to ec2)');
    return null;
  }
  let found: DriverPlugin;
  try {
    found = driverNamed(v['burst-to']);
  } catch (e) {
    throw new UsageError(`--burst-to: ${(e as Error).message}`);
  }
  if (found.name === pool.name) throw new UsageError(`--burst-to ${found.name} is the pool's own driver: name another back-end (e.g. --burst-to ec2)`);
  if (!found.burstable) throw new UsageError(`--burst-to ${found.name}: that driver runs on nodes the site adds; only a back-end that brings its own capacity (${DRIVERS.filter((d) => d.burstable).map((d) => d.name).join(', ')}) can take bursts`);
  return found;
}

async function openPlugin(plugin: DriverPlugin, context: DriverContext): Promise<OpenDriver> {
  try {
    return await plugin.open(context);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The service's base URL as guests reach it: --guest-url as given (http or https, no query), or
 * the listen address's (a guest cannot reach 0.0.0.0 or localhost: say --guest-url then).
 */
export function guestUrlOf(given: string | undefined, host: string, port: number, tls: boolean): string {
  if (given === undefined) return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`--guest-url must be a URL such as http://10.77.0.1:8080, got '${given}'`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || given.length > 1024) {
    throw new UsageError(`--guest-url must be an http or https URL without query, fragment or user (at most 1024 characters), got '${given.slice(0, 100)}'`);
  }
  return given.replace(/\/+$/, '');
}
