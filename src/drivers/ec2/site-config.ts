// The site's EC2 configuration (vws serve --ec2-config FILE): where the instances run, which
// instance types a lease's shape may get and at what price, which AMI each vws image is, and whose
// EC2 account pays for whose leases. Read strictly: a field that is missing, mistyped or unknown is
// refused naming the field, since a typo here would otherwise launch on the wrong account or type.

import type { InstanceType } from '../../core/instance-types.ts';
import { MOST_CPUS, MOST_MEMORY_MIB } from '../../core/limits.ts';
import { configFields, isObject } from '../config-fields.ts';
import type { LeaseOwner } from '../plugin.ts';

export type { LeaseOwner };

// The type choice is pure and the simulator prices burst leases with it: it lives in the core.
export { type InstanceType, typeFor } from '../../core/instance-types.ts';

/** Keys, or the name of a profile in the service's AWS shared config/credentials files. */
export type Ec2Account = { accessKeyId: string; secretAccessKey: string } | { profile: string };

export interface Ec2SiteConfig {
  /** An EC2-compatible endpoint other than AWS's (moto, another cloud); absent: AWS's for the region. */
  endpoint?: string;
  region: string;
  /** Availability zones offered as nodes, one each; absent: the region is one node and EC2 places instances. */
  zones?: string[];
  instanceTypes: InstanceType[];
  images: Record<string, string>;
  accounts: {
    users?: Record<string, Ec2Account>;
    groups?: Record<string, Ec2Account>;
    /** Only where the site wants everyone without a mapping to burst on one account. */
    default?: Ec2Account;
  };
  /** What each node declares to the scheduler (EC2's own limits refuse beyond it). */
  nodeCapacity?: { cpu: number; memoryMiB: number };
  /** How many instances run at once per zone: the service's (and the simulator's) EC2 nodes, one per slot. */
  slots?: number;
  /** The site's unit of resource usage per dollar of EC2 charges, so a burst's cost reads as a charge. */
  unitsPerDollar?: number;
}

/** Instances at once per zone beyond which a site surely mistyped (EC2's own quotas are far below). */
export const MOST_SLOTS = 100_000;

export class Ec2ConfigError extends RangeError {
  constructor(where: string, message: string) {
    super(`EC2 site configuration ${where}: ${message}`);
    this.name = 'Ec2ConfigError';
  }
}

const { only, text, positive, json } = configFields((where, message) => new Ec2ConfigError(where, message));

function account(where: string, v: unknown): Ec2Account {
  if (!isObject(v)) throw new Ec2ConfigError(where, 'must be an object: {"accessKeyId", "secretAccessKey"} or {"profile"}');
  if ('profile' in v) {
    only(where, v, ['profile']);
    return { profile: text(`${where}.profile`, v.profile) };
  }
  only(where, v, ['accessKeyId', 'secretAccessKey']);
  return { accessKeyId: text(`${where}.accessKeyId`, v.accessKeyId), secretAccessKey: text(`${where}.secretAccessKey`, v.secretAccessKey) };
}

function accountTable(where: string, v: unknown): Record<string, Ec2Account> {
  if (!isObject(v)) throw new Ec2ConfigError(where, 'must be an object from names to accounts');
  return Object.fromEntries(Object.entries(v).map(([name, a]) => [name, account(`${where}.${name}`, a)]));
}

/** The configuration from its parsed JSON, or an Ec2ConfigError naming the first field that is wrong. */
export function parseSiteConfig(raw: unknown): Ec2SiteConfig {
  if (!isObject(raw)) throw new Ec2ConfigError('(the whole file)', 'must be a JSON object');
  only('(top level)', raw, ['endpoint', 'region', 'zones', 'instanceTypes', 'images', 'accounts', 'nodeCapacity', 'slots', 'unitsPerDollar']);
  const config: Ec2SiteConfig = { region: text('region', raw.region), instanceTypes: [], images: {}, accounts: {} };
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(config.region)) throw new Ec2ConfigError('region', `'${config.region}' is not a region name such as us-east-1`);
  if (raw.endpoint !== undefined) {
    const endpoint = text('endpoint', raw.endpoint);
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Ec2ConfigError('endpoint', `'${endpoint}' is not a URL such as http://127.0.0.1:5000`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Ec2ConfigError('endpoint', `must be an http or https URL, got '${endpoint}'`);
    config.endpoint = endpoint;
  }
  if (raw.zones !== undefined) {
    if (!Array.isArray(raw.zones) || raw.zones.length === 0) throw new Ec2ConfigError('zones', 'must be a non-empty list of availability zones (or left out)');
    config.zones = raw.zones.map((z, i) => text(`zones[${i}]`, z));
    const foreign = config.zones.find((z) => !z.startsWith(config.region));
    if (foreign) throw new Ec2ConfigError('zones', `zone '${foreign}' is not in region ${config.region}`);
    if (new Set(config.zones).size !== config.zones.length) throw new Ec2ConfigError('zones', 'lists a zone twice');
  }
  if (!Array.isArray(raw.instanceTypes) || raw.instanceTypes.length === 0) throw new Ec2ConfigError('instanceTypes', 'must be a non-empty list of {name, cpu, memoryMiB, pricePerHour}');
  config.instanceTypes = raw.instanceTypes.map((t, i) => {
    const where = `instanceTypes[${i}]`;
    if (!isObject(t)) throw new Ec2ConfigError(where, 'must be an object {name, cpu, memoryMiB, pricePerHour}');
    only(where, t, ['name', 'cpu', 'memoryMiB', 'pricePerHour']);
    return { name: text(`${where}.name`, t.name), cpu: positive(`${where}.cpu`, t.cpu), memoryMiB: positive(`${where}.memoryMiB`, t.memoryMiB), pricePerHour: positive(`${where}.pricePerHour`, t.pricePerHour) };
  });
  const names = config.instanceTypes.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Ec2ConfigError('instanceTypes', `lists type '${twice}' twice`);
  if (!isObject(raw.images)) throw new Ec2ConfigError('images', 'must be an object from vws image names to AMI ids, e.g. {"debian-12": "ami-0123456789abcdef0"}');
  for (const [image, ami] of Object.entries(raw.images)) {
    const id = text(`images.${image}`, ami);
    if (!/^ami-[0-9a-f]{8,17}$/.test(id)) throw new Ec2ConfigError(`images.${image}`, `'${id}' is not an AMI id (ami- and 8 to 17 hex digits)`);
    config.images[image] = id;
  }
  if (!isObject(raw.accounts)) throw new Ec2ConfigError('accounts', 'must be an object {users, groups, default}: who may run on EC2, on whose account');
  only('accounts', raw.accounts, ['users', 'groups', 'default']);
  if (raw.accounts.users !== undefined) config.accounts.users = accountTable('accounts.users', raw.accounts.users);
  if (raw.accounts.groups !== undefined) config.accounts.groups = accountTable('accounts.groups', raw.accounts.groups);
  if (raw.accounts.default !== undefined) config.accounts.default = account('accounts.default', raw.accounts.default);
  if (raw.nodeCapacity !== undefined) {
    if (!isObject(raw.nodeCapacity)) throw new Ec2ConfigError('nodeCapacity', 'must be an object {cpu, memoryMiB}');
    only('nodeCapacity', raw.nodeCapacity, ['cpu', 'memoryMiB']);
    config.nodeCapacity = { cpu: positive('nodeCapacity.cpu', raw.nodeCapacity.cpu), memoryMiB: positive('nodeCapacity.memoryMiB', raw.nodeCapacity.memoryMiB) };
    if (config.nodeCapacity.cpu > MOST_CPUS) throw new Ec2ConfigError('nodeCapacity.cpu', `at most ${MOST_CPUS} (a node's limit), got ${config.nodeCapacity.cpu}`);
    if (config.nodeCapacity.memoryMiB > MOST_MEMORY_MIB) throw new Ec2ConfigError('nodeCapacity.memoryMiB', `at most ${MOST_MEMORY_MIB} (a node's limit), got ${config.nodeCapacity.memoryMiB}`);
  }
  if (raw.slots !== undefined) {
    const slots = raw.slots;
    if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 1 || slots > MOST_SLOTS) {
      throw new Ec2ConfigError('slots', `must be a whole number of instances at once per zone, 1 to ${MOST_SLOTS}, got ${JSON.stringify(slots)}`);
    }
    config.slots = slots;
  }
  if (raw.unitsPerDollar !== undefined) config.unitsPerDollar = positive('unitsPerDollar', raw.unitsPerDollar);
  return config;
}

/** The configuration in a file, refusing unreadable or non-JSON text with the file's name. */
export function siteConfigFromText(file: string, text: string): Ec2SiteConfig {
  return parseSiteConfig(json(file, text));
}

/**
 * The account a lease runs on: the owner's own mapping, else the lease's group's, else the first
 * (by name) of the owner's groups that has one, else the site's default; else why it may not run.
 */
export function accountFor(config: Ec2SiteConfig, who: LeaseOwner, configFile = 'the EC2 site configuration'): { key: string; account: Ec2Account } | string {
  const { users = {}, groups = {}, default: fallback } = config.accounts;
  if (Object.hasOwn(users, who.owner)) return { key: `user:${who.owner}`, account: users[who.owner]! };
  const candidates = [...(who.group ? [who.group] : []), ...[...who.memberOf].sort()];
  const group = candidates.find((g) => Object.hasOwn(groups, g));
  if (group) return { key: `group:${group}`, account: groups[group]! };
  if (fallback) return { key: 'default', account: fallback };
  const via = candidates.length > 0 ? ` nor for its groups (${[...new Set(candidates)].join(', ')})` : '';
  return `user ${who.owner} may not run on EC2: no account in ${configFile} for the user${via}, and the site has no default account; an administrator adds one under accounts.users or accounts.groups`;
}
