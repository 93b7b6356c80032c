// Who may see, use and change an image (issue 14, finding 7). An image is private (its owner and
// administrators), shared with the members of its group, or public (everyone). Whoever may not see
// an image is answered as if it did not exist, on every route that names it, so that neither its
// name nor its content is given away. Seeing an image is what using it in a lease takes; only its
// owner and administrators change it. Only administrators make an image public, as research
// clouds do by default (OpenStack Glance's "publicize_image" policy): a public image is offered
// by the site to every user, which is the site's decision, not one user's.

import type { ImageRow, ImageVisibility, Store } from '../store/store.ts';
import type { Caller } from './auth.ts';
import { ApiError, forbidden, invalidRequest, notFound } from './errors.ts';
import { checkImageTrust } from './image-trust.ts';

type Sharing = Pick<ImageRow, 'owner' | 'group' | 'visibility'>;

export function canSeeImage(caller: Caller, image: Sharing): boolean {
  if (caller.user.isAdmin || image.owner === caller.user.id || image.visibility === 'public') return true;
  return image.visibility === 'group' && image.group !== null && caller.groups.includes(image.group);
}

/** The image, if the caller may see it; else the same not-found as for a name never registered. */
export async function visibleImage(store: Store, caller: Caller, name: string, what = 'image'): Promise<ImageRow> {
  const image = await store.getImage(name);
  if (!image || !canSeeImage(caller, image)) throw notFound(what, name);
  return image;
}

/** An image the caller may change: members of its group see it, only its owner and administrators change it. */
export async function ownImage(store: Store, caller: Caller, name: string, action: string): Promise<ImageRow> {
  const image = await visibleImage(store, caller, name);
  if (image.owner !== caller.user.id && !caller.user.isAdmin) throw forbidden(`only the owner of image '${name}' (${image.owner}) or an administrator may ${action} it`);
  return image;
}

const unknownImage = (name: string, path: string): ApiError =>
  new ApiError('unknown-image', `no image '${name}': register it first (POST /v1/images), or name one of GET /v1/images`, { path });

/**
 * The image a lease names, if the caller may use it: one it can see whose content is uploaded, and
 * so are the kernel and initrd it boots from. An image the caller cannot see is refused exactly as
 * one that was never registered. Each must be one the site's trust policy lets the caller run at
 * `now` (image-trust.ts).
 */
export async function imageForLease(store: Store, caller: Caller, name: string, path: string, now: number): Promise<ImageRow> {
  const image = await store.getImage(name);
  if (!image || !canSeeImage(caller, image)) throw unknownImage(name, path);
  const parts = [image];
  for (const partName of image.boot ? [image.boot.kernel, image.boot.initrd] : []) {
    const part = await store.getImage(partName);
    if (!part || !canSeeImage(caller, part)) throw new ApiError('unknown-image', `image '${name}' boots from '${partName}', which is not registered or not shared with you: ask its owner (${image.owner}) to share it`, { path });
    parts.push(part);
  }
  for (const p of parts) {
    if (!p.uploaded) throw new ApiError('wrong-state', `image '${p.name}' has no content yet: upload it (PUT /v1/images/${p.name}/content, or vws image add), then ask again`, { path });
  }
  await checkImageTrust(store, parts, caller.user.isAdmin, now, path);
  return image;
}

export interface SharingAsked {
  visibility?: ImageVisibility;
  group?: string;
}

/**
 * The group and visibility an image gets when `asked` is applied to what it has (`current`),
 * checked against the caller's rights: a group must be one of the caller's (any that exists, for
 * an administrator); an image shared with its group must have one; only administrators publish.
 */
export async function sharingOf(store: Store, caller: Caller, asked: SharingAsked, current: Pick<ImageRow, 'group' | 'visibility'>): Promise<Pick<ImageRow, 'group' | 'visibility'>> {
  if (asked.group !== undefined) {
    if (caller.user.isAdmin) {
      if (!(await store.getGroup(asked.group))) throw notFound('group', asked.group);
    } else if (!caller.groups.includes(asked.group)) {
      throw forbidden(`you are not a member of group '${asked.group}'`);
    }
  }
  const visibility = asked.visibility ?? current.visibility;
  const group = asked.group ?? current.group;
  if (visibility === 'public' && current.visibility !== 'public' && !caller.user.isAdmin) {
    throw forbidden("only an administrator may make an image public (publish it to every user): ask one to set its visibility to 'public' (PATCH /v1/images/{name}); meanwhile share it with your group ('group')");
  }
  if (visibility === 'group' && group === null) {
    const yours = caller.groups.length > 0 ? `one of yours: ${caller.groups.join(', ')}` : 'you are in no group; an administrator adds you to one';
    throw invalidRequest('body.group', `an image shared with its group needs the group: name it (${yours})`);
  }
  return { group, visibility };
}

/** The group an image starts with: the registrant's, when it has exactly one. */
export const groupAtRegistration = (caller: Caller): string | null => (caller.groups.length === 1 ? caller.groups[0] : null);
