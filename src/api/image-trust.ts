// The site's trust policy applied to the images a lease runs (issue 17, item 5): checked when a
// lease is quoted, held and created, before the service is asked, so a refused lease leaves nothing
// behind. The rules themselves are src/drivers/trust-policy.ts's, shared with the driver and agent.

import type { StatementEnvelope } from '../drivers/image-statement.ts';
import { DEFAULT_POLICY, evaluateTrust, reasonText, type TrustPolicy, type Verdict } from '../drivers/trust-policy.ts';
import type { ImageRow, Store } from '../store/store.ts';
import { ApiError } from './errors.ts';

export async function sitePolicy(store: Store): Promise<TrustPolicy> {
  return ((await store.trustPolicy())?.policy as TrustPolicy | undefined) ?? DEFAULT_POLICY;
}

/** What the policy says of this image for this caller, with its statements and the site's signers. */
export async function imageVerdict(store: Store, image: Pick<ImageRow, 'name' | 'sha256'>, isAdmin: boolean, now: number, policy?: TrustPolicy): Promise<Verdict> {
  const statements = (await store.imageStatements(image.name)).map((s) => s.envelope as StatementEnvelope);
  const signers = await store.listSigners();
  return evaluateTrust({ image, statements, signers, policy: policy ?? (await sitePolicy(store)), now, isAdmin });
}

/** Refuses (untrusted-image, with the reasons) an image the site's policy does not let the caller run. */
export async function checkImageTrust(store: Store, images: readonly ImageRow[], isAdmin: boolean, now: number, path: string): Promise<void> {
  const policy = await sitePolicy(store);
  if (policy.require === 'none') return;
  for (const image of images) {
    const verdict = await imageVerdict(store, image, isAdmin, now, policy);
    if (!verdict.accepted) throw new ApiError('untrusted-image', `image '${image.name}' is not trusted by this site's policy (${policy.require}): ${reasonText(verdict)}`, { path, reasons: verdict.reasons });
  }
}
