import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DriverPlugin } from '../drivers/plugin.ts';
import { DEFAULT_BURST_POLICY } from '../core/bursting.ts';
import { LONGEST_SECONDS } from '../core/limits.ts';
import { MOST_NODE_BANDWIDTH_MBPS } from '../drivers/leased-limits.ts';
import { DEFAULT_DRIVER, DRIVERS, driverNamed } from '../drivers/registry.ts';
import { openStore } from '../store/open-store.ts';
import { numberOption, positive, positiveInteger } from './options.ts';
import { UsageError } from './usage-error.ts';
import { type Ec2Flags, ec2Settings } from './ec2-serve.ts';
import { readTermsFile } from './terms-file.ts';
import { type ServeSettings, startLeader } from './serve-leader.ts';
import { runRoles, serverName } from './serve-roles.ts';

/** The options of vws serve by long name, as ./program.ts parsed them (they are described in ./local-commands.ts). */
export interface ServeOptions extends Ec2Flags {
  listen?: string; data?: string; store?: string; driver?: string; 'burst-to'?: string; 'burst-after'?: string; 'ec2-config'?: string; 'pilot-config'?: string; 'vm-network'?: string; 'cluster-network'?: string; 'guest-url'?: string;
  nodes?: string; 'node-cpu'?: string; 'node-memory'?: string; 'node-bandwidth'?: string; 'tls-cert'?: string; 'tls-key'?: string; terms?: string; advertise?: string; name?: string;
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
  for (const option of ['vm-network', 'cluster-network', 'ec2-config', 'pilot-config'] as const) {
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
  const nodeBandwidth = v['node-bandwidth'] === undefined ? undefined : numberOption('node-bandwidth', v['node-bandwidth'], 0, (n) => n > 0 && n <= MOST_NODE_BANDWIDTH_MBPS, `a number of Mbit/s above 0 and at most ${MOST_NODE_BANDWIDTH_MBPS}`);
  const ec2 = ec2Settings(v);
  const terms = v.terms === undefined ? undefined : readTermsFile(v.terms);

  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const https = v['tls-cert'] ? { cert: readFileSync(v['tls-cert']!, 'utf8'), key: readFileSync(v['tls-key']!, 'utf8') } : undefined;
  const settings: ServeSettings = {
    host, port, data, plugin, burstTo, burstAfter, guestUrl, nodes, nodeCpu, nodeMemory, nodeBandwidth, ec2, version, https,
    vmNetwork: v['vm-network'], clusterNetwork: v['cluster-network'], ec2Config: v['ec2-config'], pilotConfig: v['pilot-config'],
    ...(terms ? { terms: { file: v.terms!, terms } } : {}),
    storeName: v.store ? 'postgres' : join(data, 'vws.db'),
  };
  if (v.advertise !== undefined && !v.store) throw new UsageError('--advertise is where followers forward to: it goes with a shared --store (PostgreSQL)');
  const advertise = v.advertise === undefined ? undefined : guestUrlOf(v.advertise, host, port, https !== undefined, '--advertise');
  if (v.store && advertise === undefined && (host === '0.0.0.0' || host === '::')) {
    throw new UsageError(`--listen ${host} is no address another server can reach: give --advertise URL (this server's address for the others)`);
  }

  // vws's own directory (store, image content, driver state): the service's user's alone.
  mkdirSync(data, { recursive: true, mode: 0o700 });
  chmodSync(data, 0o700);
  const store = await openStore(v.store ?? join(data, 'vws.db'));
  const shared = store.leadership();
  let stop: () => Promise<void>;
  try {
    if (shared) {
      const me = { name: serverName(v.name), address: advertise ?? guestUrlOf(undefined, host, port, https !== undefined) };
      const roles = await runRoles(settings, shared, store, me, (leadership) => startLeader(settings, store, leadership));
      stop = () => roles.stop();
    } else {
      const taken = await store.claimForServer();
      if (taken) throw new UsageError(taken);
      const running = await startLeader(settings, store);
      stop = () => running.close();
    }
  } catch (e) {
    await store.close();
    throw e;
  }
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  await stop();
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

/**
 * The service's base URL as guests reach it: --guest-url as given (http or https, no query), or
 * the listen address's (a guest cannot reach 0.0.0.0 or localhost: say --guest-url then).
 */
export function guestUrlOf(given: string | undefined, host: string, port: number, tls: boolean, flag = '--guest-url'): string {
  if (given === undefined) return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`${flag} must be a URL such as http://10.77.0.1:8080, got '${given}'`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || given.length > 1024) {
    throw new UsageError(`${flag} must be an http or https URL without query, fragment or user (at most 1024 characters), got '${given.slice(0, 100)}'`);
  }
  return given.replace(/\/+$/, '');
}
