// The site's trust policy applied to the images a lease runs (issue 17, item 5), read from the
// store: below both front-ends (the REST API's quote and create, EC2's RunInstances), which turn
// a refusal into their own errors. The rules are src/drivers/trust-policy.ts's, shared with the
// driver and the agent.

import type { StatementEnvelope } from '../drivers/image-statement.ts';
import { DEFAULT_POLICY, evaluateTrust, type TrustPolicy, type Verdict } from '../drivers/trust-policy.ts';
import type { ImageRow, Store } from '../store/store.ts';

export async function sitePolicy(store: Store): Promise<TrustPolicy> {
  return ((await store.trustPolicy())?.policy as TrustPolicy | undefined) ?? DEFAULT_POLICY;
}

/** What the policy says of this image for this caller, with its statements and the site's signers. */
export async function imageVerdict(store: Store, image: Pick<ImageRow, 'name' | 'sha256'>, isAdmin: boolean, now: number, policy?: TrustPolicy): Promise<Verdict> {
  const statements = (await store.imageStatements(image.name)).map((s) => s.envelope as StatementEnvelope);
  const signers = await store.listSigners();
  return evaluateTrust({ image, statements, signers, policy: policy ?? (await sitePolicy(store)), now, isAdmin });
}

/** The first of `images` the policy does not let the caller run at `now`, with why; null when it lets it run them all. */
export async function untrustedImage(store: Store, images: readonly ImageRow[], isAdmin: boolean, now: number): Promise<{ image: ImageRow; policy: TrustPolicy; verdict: Verdict } | null> {
  const policy = await sitePolicy(store);
  if (policy.require === 'none') return null;
  for (const image of images) {
    const verdict = await imageVerdict(store, image, isAdmin, now, policy);
    if (!verdict.accepted) return { image, policy, verdict };
  }
  return null;
}
