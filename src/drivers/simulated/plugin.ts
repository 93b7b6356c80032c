import { join } from 'node:path';
import type { DriverPlugin } from '../plugin.ts';
import { SimulatedDriver } from './simulated-driver.ts';

export const simulatedPlugin: DriverPlugin = {
  name: 'simulated',
  summary: 'VMs that only pretend, on nodes added with --nodes or the API (the default: runs anywhere)',
  options: [],
  open: (ctx) => ({ driver: new SimulatedDriver({ stateFile: join(ctx.dataDir, 'simulated-vms.json') }) }),
};
