// The image catalogue as EC2 AMIs: the images the caller may see (its own, its groups', public
// ones) whose content is uploaded, each under an AMI id derived from its name.

import type { ImageRow } from '../store/store.ts';
import type { Ec2Caller, Ec2Options } from './context.ts';
import { amiIdOf } from './ids.ts';

export function canSeeImage(caller: Ec2Caller, image: ImageRow): boolean {
  if (caller.user.isAdmin || image.owner === caller.user.id || image.visibility === 'public') return true;
  return image.visibility === 'group' && image.group !== null && caller.groups.includes(image.group);
}

/** The images a lease of the caller's may boot: visible, uploaded, and their boot parts too. */
export async function usableImages(opts: Ec2Options, caller: Ec2Caller): Promise<Array<{ amiId: string; image: ImageRow }>> {
  const all = await opts.store.listImages();
  const byName = new Map(all.map((i) => [i.name, i]));
  const usable = (i: ImageRow | undefined): boolean => i !== undefined && i.uploaded && canSeeImage(caller, i);
  return all
    .filter((i) => usable(i) && (!i.boot || (usable(byName.get(i.boot.kernel)) && usable(byName.get(i.boot.initrd)))))
    .map((image) => ({ amiId: amiIdOf(image.name), image }));
}
