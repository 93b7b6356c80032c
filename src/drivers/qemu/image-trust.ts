// What the agent is told about an image's signed statements (protocol.ts ImageTrust): under a
// trust policy, the statements on the image by the site's trusted signers and their keys, which
// the agent verifies against its own file before it boots it (src/agent/images/statement-check.ts).
// The service decided at quote and create whether the lease may run the image; this hands the
// agent the means to check the signature and the hash itself.

import type { StatementEnvelope } from '../image-statement.ts';
import type { ImageRow, Store } from '../../store/store.ts';
import type { ImageTrust } from './protocol.ts';

/** The image's trust for the agent; undefined when the site's policy requires nothing (none). */
export async function imageTrustOf(store: Store, image: Pick<ImageRow, 'name'>): Promise<ImageTrust | undefined> {
  const policy = (await store.trustPolicy())?.policy;
  if (!policy || policy.require === 'none') return undefined;
  const signers = await store.listSigners();
  const trusted = new Map(signers.map((s) => [s.keyId, s.publicKey]));
  const statements = (await store.imageStatements(image.name)).filter((s) => trusted.has(s.keyId));
  return {
    statements: statements.map((s) => s.envelope as StatementEnvelope),
    keys: [...new Set(statements.map((s) => trusted.get(s.keyId)!))],
    // signed-unless-admin: an administrator's lease may run it unsigned, which the service decided.
    required: policy.require === 'signed',
  };
}
