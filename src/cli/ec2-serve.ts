// vws serve's EC2 options (--ec2-*), checked before anything starts, and the front-end's server.

import { buildEc2Server } from '../ec2/server.ts';
import type { Ec2Options } from '../ec2/context.ts';
import { BUILT_IN_TYPES, type InstanceTypes, readInstanceTypes } from '../ec2/instance-types.ts';
import { numberOption, positiveInteger } from './options.ts';
import { UsageError } from './usage-error.ts';

/** vws serve's --ec2-* options as parsed. */
export interface Ec2Flags {
  'ec2-listen'?: string; 'ec2-region'?: string; 'ec2-instance-types'?: string; 'ec2-lease-seconds'?: string;
}

export interface Ec2Settings {
  host: string;
  port: number;
  region: string;
  instanceTypes: InstanceTypes;
  leaseSeconds: number;
}

/** The settings, or null when --ec2-listen is not given (the other --ec2-* options need it). */
export function ec2Settings(v: Ec2Flags): Ec2Settings | null {
  const listen = v['ec2-listen'];
  if (listen === undefined) {
    const other = (['ec2-region', 'ec2-instance-types', 'ec2-lease-seconds'] as const).find((o) => v[o] !== undefined);
    if (other) throw new UsageError(`--${other} configures the EC2 front-end: give --ec2-listen HOST:PORT too`);
    return null;
  }
  const [host, portText] = listen.split(/:(?=\d+$)/);
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--ec2-listen must be HOST:PORT, got '${listen}'`);
  const region = v['ec2-region'] ?? 'vws';
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(region)) throw new UsageError(`--ec2-region must be lower-case letters, digits and '-' (at most 32), got '${region.slice(0, 40)}'`);
  let instanceTypes = BUILT_IN_TYPES;
  if (v['ec2-instance-types'] !== undefined) {
    try {
      instanceTypes = readInstanceTypes(v['ec2-instance-types']);
    } catch (e) {
      throw new UsageError(`--ec2-instance-types: ${(e as Error).message}`);
    }
  }
  const leaseSeconds = numberOption('ec2-lease-seconds', v['ec2-lease-seconds'], 86400, positiveInteger, 'a positive whole number of seconds');
  return { host, port, region, instanceTypes, leaseSeconds };
}

export async function startEc2(s: Ec2Settings, parts: Pick<Ec2Options, 'service' | 'store' | 'secretBox' | 'now'>): Promise<{ url: string; close(): Promise<void> }> {
  const server = buildEc2Server({ ...parts, region: s.region, instanceTypes: s.instanceTypes, leaseSeconds: s.leaseSeconds });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new UsageError(`--ec2-listen ${s.host}:${s.port}: ${e.message}`)));
    server.listen(s.port, s.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : s.port;
  return {
    url: `http://${s.host.includes(':') ? `[${s.host}]` : s.host}:${port}/ec2`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
