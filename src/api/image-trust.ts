// The site's trust policy on a lease's images, as the REST API answers it: checked when a lease is
// quoted, held and created, before the service is asked, so a refused lease leaves nothing behind
// (the store-reading half is src/control/image-trust.ts, shared with the EC2 front-end).

import { untrustedImage } from '../control/image-trust.ts';
import { reasonText } from '../drivers/trust-policy.ts';
import type { ImageRow, Store } from '../store/store.ts';
import { ApiError } from './errors.ts';

export { imageVerdict, sitePolicy } from '../control/image-trust.ts';

/** Refuses (untrusted-image, with the reasons) an image the site's policy does not let the caller run. */
export async function checkImageTrust(store: Store, images: readonly ImageRow[], isAdmin: boolean, now: number, path: string): Promise<void> {
  const refused = await untrustedImage(store, images, isAdmin, now);
  if (!refused) return;
  const { image, policy, verdict } = refused;
  throw new ApiError('untrusted-image', `image '${image.name}' is not trusted by this site's policy (${policy.require}): ${reasonText(verdict)}`, { path, reasons: verdict.reasons });
}
