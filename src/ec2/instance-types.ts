// EC2 instance types as vws shapes: a built-in table of a few common types, or the site's own
// (`vws serve --ec2-instance-types FILE`, a JSON object { "TYPE": { "cpu": N, "memoryMiB": N } }).

import { readFileSync } from 'node:fs';

export interface InstanceShape {
  cpu: number;
  memoryMiB: number;
}

export type InstanceTypes = ReadonlyMap<string, InstanceShape>;

export const DEFAULT_INSTANCE_TYPE = 't3.micro';

export const BUILT_IN_TYPES: InstanceTypes = new Map([
  ['t3.nano', { cpu: 1, memoryMiB: 512 }],
  ['t3.micro', { cpu: 1, memoryMiB: 1024 }],
  ['t3.small', { cpu: 1, memoryMiB: 2048 }],
  ['t3.medium', { cpu: 2, memoryMiB: 4096 }],
  ['t3.large', { cpu: 2, memoryMiB: 8192 }],
  ['m5.large', { cpu: 2, memoryMiB: 8192 }],
  ['m5.xlarge', { cpu: 4, memoryMiB: 16384 }],
]);

const TYPE_NAME = /^[a-z0-9][a-z0-9-]{0,30}\.[a-z0-9]{1,20}$/;

/** The table in `text` (JSON), or an error naming the entry at fault. */
export function parseInstanceTypes(text: string, source: string): InstanceTypes {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not JSON (${(e as Error).message}): give an object such as {"t3.micro": {"cpu": 1, "memoryMiB": 1024}}`, { cause: e });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${source} must be a JSON object of instance types, such as {"t3.micro": {"cpu": 1, "memoryMiB": 1024}}`);
  const table = new Map<string, InstanceShape>();
  for (const [name, shape] of Object.entries(data)) {
    if (!TYPE_NAME.test(name)) throw new Error(`${source}: '${name.slice(0, 60)}' is not an instance type name (FAMILY.SIZE, lower case, such as m5.large)`);
    const s = shape as Partial<InstanceShape> | null;
    const keys = typeof s === 'object' && s !== null ? Object.keys(s).sort().join(',') : '';
    if (keys !== 'cpu,memoryMiB' || typeof s!.cpu !== 'number' || !(s!.cpu > 0) || s!.cpu > 1024
      || !Number.isInteger(s!.memoryMiB) || s!.memoryMiB! <= 0 || s!.memoryMiB! > 16 * 1024 * 1024) {
      throw new Error(`${source}: '${name}' must be {"cpu": N, "memoryMiB": N} with cpu in (0, 1024] and memoryMiB a positive whole number`);
    }
    table.set(name, { cpu: s!.cpu!, memoryMiB: s!.memoryMiB! });
  }
  if (table.size === 0) throw new Error(`${source} names no instance type: give at least one`);
  return table;
}

export const readInstanceTypes = (file: string): InstanceTypes => parseInstanceTypes(readFileSync(file, 'utf8'), file);

/** The type whose shape is exactly the lease's, for leases made elsewhere (the REST API); null if none. */
export function typeOfShape(types: InstanceTypes, cpu: number, memoryMiB: number): string | null {
  for (const [name, s] of types) if (s.cpu === cpu && s.memoryMiB === memoryMiB) return name;
  return null;
}
