import { join } from 'node:path';
import type { DriverPlugin } from '../plugin.ts';

export const ec2Plugin: DriverPlugin = {
  name: 'ec2',
  summary: 'VMs as EC2 instances (or an EC2-compatible cloud) on the accounts --ec2-config maps users and groups to',
  options: ['ec2-config'],
  burstable: true,
  nodesJoin: 'its nodes are the region or zones of --ec2-config',
  async open(ctx) {
    if (!ctx.ec2Config) throw new RangeError('--driver ec2 needs --ec2-config FILE: the site\'s EC2 region, instance types, AMIs and accounts (docs/ec2-backend.md)');
    const { siteConfigFromText } = await import('./site-config.ts');
    const { readConfigFile } = await import('../config-fields.ts');
    const { Ec2Driver } = await import('./ec2-driver.ts');
    const { leaseOwners } = await import('./lease-owners.ts');
    const config = siteConfigFromText(ctx.ec2Config, readConfigFile('ec2-config', ctx.ec2Config));
    const driver = new Ec2Driver({
      config, configFile: ctx.ec2Config, stateFile: join(ctx.dataDir, 'ec2-vms.json'), seedFor: ctx.seeds, log: ctx.log, watchMs: 30_000,
      ownerOf: leaseOwners(ctx.store),
    });
    const { ec2Billing } = await import('./billing.ts');
    return { driver, nodes: driver.nodes(), billing: ec2Billing(driver, config, config.unitsPerDollar ?? null) };
  },
};
