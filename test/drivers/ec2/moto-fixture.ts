// One moto server per test file, and EC2 drivers on it with a site configuration of two zones,
// three instance types, one image and one user's account.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Ec2Driver, type Ec2DriverOptions } from '../../../src/drivers/ec2/ec2-driver.ts';
import type { Ec2SiteConfig, LeaseOwner } from '../../../src/drivers/ec2/site-config.ts';
import { type Moto, startMoto } from '../../support/moto.ts';

/** One of moto's stock AMIs. */
export const AMI = 'ami-12c6146b';
export const KEYS = { accessKeyId: 'AKIAVWSTESTALICE0001', secretAccessKey: 'alice-secret' };

let moto: Promise<Moto> | null = null;
const dirs: string[] = [];

after(async () => {
  await (await moto)?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function theMoto(): Promise<Moto> {
  moto ??= startMoto();
  return moto;
}

export function siteConfig(endpoint: string, more: Partial<Ec2SiteConfig> = {}): Ec2SiteConfig {
  return {
    endpoint, region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'],
    instanceTypes: [
      { name: 't3.micro', cpu: 2, memoryMiB: 1024, pricePerHour: 0.0104 },
      { name: 't3.small', cpu: 2, memoryMiB: 2048, pricePerHour: 0.0208 },
      { name: 'c5.xlarge', cpu: 4, memoryMiB: 8192, pricePerHour: 0.17 },
    ],
    images: { debian: AMI },
    accounts: { users: { alice: KEYS } },
    ...more,
  };
}

export const alice: LeaseOwner = { owner: 'alice', group: null, memberOf: [] };

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vws-ec2-'));
  dirs.push(d);
  return d;
}

/** A driver on moto whose every lease is alice's unless `ownerOf` says otherwise. */
export async function motoDriver(opts: Partial<Ec2DriverOptions> & { dir?: string } = {}): Promise<{ driver: Ec2Driver; dir: string; endpoint: string }> {
  const { endpoint } = await theMoto();
  const dir = opts.dir ?? tempDir();
  const driver = new Ec2Driver({ config: siteConfig(endpoint), stateFile: join(dir, 'ec2-vms.json'), ownerOf: async () => alice, pollMs: 20, ...opts });
  return { driver, dir, endpoint };
}

/** The SDK's own client on moto, as a person with alice's keys would use it. */
export function sdk(endpoint: string): EC2Client {
  return new EC2Client({ endpoint, region: 'us-east-1', credentials: KEYS });
}
