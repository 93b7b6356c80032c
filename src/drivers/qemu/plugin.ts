import { join } from 'node:path';
import type { DriverPlugin } from '../plugin.ts';

export const qemuPlugin: DriverPlugin = {
  name: 'qemu',
  summary: 'real VMs under QEMU on node agents (vws agent), which join the pool by themselves',
  options: ['vm-network'],
  nodesJoin: 'nodes join by running vws agent',
  async open(ctx) {
    const { AgentPool } = await import('./agent-pool.ts');
    const pool = new AgentPool({ store: ctx.store, dir: join(ctx.dataDir, 'agents'), network: ctx.vmNetwork ?? '10.77.0.0/24', log: ctx.log, seedFor: ctx.seeds });
    return { driver: pool.driver, agents: pool.hub, bind: (service) => pool.bind(service) };
  },
};
