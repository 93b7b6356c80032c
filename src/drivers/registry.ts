// Every driver the service can run on, by name. Adding one is a folder under src/drivers, a line
// here, and passing the contract suite for the capabilities it declares (test/drivers/).

import { ec2Plugin } from './ec2/plugin.ts';
import type { DriverPlugin } from './plugin.ts';
import { qemuPlugin } from './qemu/plugin.ts';
import { pilotPlugin } from './qemu/pilot/plugin.ts';
import { simulatedPlugin } from './simulated/plugin.ts';

export const DRIVERS: readonly DriverPlugin[] = [
  simulatedPlugin,
  qemuPlugin,
  ec2Plugin,
  pilotPlugin,
];

export const DEFAULT_DRIVER = simulatedPlugin.name;

/** The driver of that name, or a RangeError listing the registered ones. */
export function driverNamed(name: string, registry: readonly DriverPlugin[] = DRIVERS): DriverPlugin {
  const found = registry.find((d) => d.name === name);
  if (!found) throw new RangeError(`no driver named '${name}': the registered drivers are ${registry.map((d) => d.name).join(', ')}`);
  return found;
}
