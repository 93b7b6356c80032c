// What the agent is told about the images a VM boots from (imagesOf) and their signed statements
// (protocol.ts ImageTrust): under a
// trust policy, the statements on the image by the site's trusted signers and their keys, which
// the agent verifies against its own file before it boots it (src/agent/images/statement-check.ts).
// The service decided at quote and create whether the lease may run the image; this hands the
// agent the means to check the signature and the hash itself.

import type { StatementEnvelope } from '../image-statement.ts';
import type { ImageRow, Store } from '../../store/store.ts';
import { DriverError } from '../driver.ts';
import type { ImageRef, ImageTrust, Workload } from './protocol.ts';

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

/** The image a VM boots from as its agent fetches it: its disk, and its kernel and initrd when it has them. */
export async function imagesOf(store: Store, name: string): Promise<{ disk: ImageRef | null; boot: Workload['boot'] }> {
  const ref = async (n: string): Promise<ImageRef> => {
    const row = await store.getImage(n);
    if (!row) throw new DriverError(n, `image '${n}' is not registered`);
    if (!row.uploaded) throw new DriverError(n, `image '${n}' has no content yet: upload it (PUT /v1/images/${n}/content)`);
    const trust = await imageTrustOf(store, row);
    return { name: row.name, sha256: row.sha256, sizeMiB: row.sizeMiB, ...(trust ? { trust } : {}) };
  };
  const row = await store.getImage(name);
  const disk = await ref(name);
  const boot = row?.boot ? { kernel: await ref(row.boot.kernel), initrd: await ref(row.boot.initrd), cmdline: row.boot.cmdline } : null;
  return { disk, boot };
}
