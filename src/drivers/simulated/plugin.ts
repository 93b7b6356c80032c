import { join } from 'node:path';
import type { DriverPlugin } from '../plugin.ts';

export const simulatedPlugin: DriverPlugin = {
  name: 'simulated',
  summary: 'VMs that only pretend, on nodes added with --nodes or the API (the default: runs anywhere)',
  options: [],
  async open(ctx) {
    const { SimulatedDriver } = await import('./simulated-driver.ts');
    return { driver: new SimulatedDriver({ stateFile: join(ctx.dataDir, 'simulated-vms.json') }) };
  },
};
