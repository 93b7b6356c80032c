// An image's minimum resources against a VM's shape: shared by the REST API (a lease's image, a
// cluster role's) and the EC2 front-end (an instance type's), so both refuse the same VMs.

import type { Resources } from '../core/types.ts';
import type { ImageRow } from '../store/store.ts';

/**
 * Why a VM of `perNode` is too small for the image (what it has, what to ask for instead), or null
 * when it meets the minimum. `what` names the VM in the message ("each VM", "role 'worker' ...").
 */
export function belowMinimum(image: Pick<ImageRow, 'name' | 'description'>, perNode: Pick<Resources, 'cpu' | 'memoryMiB'>, what: string): string | null {
  const min = image.description?.minimum;
  if (!min) return null;
  const short: string[] = [];
  const instead: string[] = [];
  if (min.cpu !== undefined && perNode.cpu < min.cpu) {
    short.push(`cpu ${perNode.cpu} < ${min.cpu}`);
    instead.push(`cpu ${min.cpu}`);
  }
  if (min.memoryMiB !== undefined && perNode.memoryMiB < min.memoryMiB) {
    short.push(`memoryMiB ${perNode.memoryMiB} < ${min.memoryMiB}`);
    instead.push(`memoryMiB ${min.memoryMiB}`);
  }
  if (short.length === 0) return null;
  const minimum = [min.cpu !== undefined ? `cpu ${min.cpu}` : null, min.memoryMiB !== undefined ? `memoryMiB ${min.memoryMiB}` : null].filter(Boolean).join(', ');
  return `image '${image.name}' needs at least ${minimum} per VM, and ${what} has ${short.join(', ')}: ask for ${instead.join(' and ')} (or more)`;
}
