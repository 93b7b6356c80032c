// The node agent's own check of an image's signed statements before it boots it (issue 17, item
// 5): the service accepted the image under its trust policy, and says which statements and keys
// that rests on; the agent does not take the service's word for it but verifies a signature
// itself, over a statement about the exact file it holds (its cache verified the sha256 on
// download; the size is checked here).

import { statSync } from 'node:fs';
import { keyIdOf, openEnvelope, subjectMismatch } from '../../drivers/image-statement.ts';
import type { ImageRef } from '../../drivers/qemu/protocol.ts';

/** Why the image at `path` must not boot, or null when its trust holds (or none is asked for). */
export function statementProblem(image: ImageRef, path: string): string | null {
  const trust = image.trust;
  if (!trust) return null;
  if (trust.statements.length === 0) {
    return trust.required ? `image '${image.name}' carries no signed statement by a trusted signer, and the site requires one: the agent does not boot it` : null;
  }
  const keys = new Map(trust.keys.flatMap((k) => {
    try {
      return [[keyIdOf(k), k] as const];
    } catch {
      return [];
    }
  }));
  const size = statSync(path).size;
  const problems: string[] = [];
  for (const envelope of trust.statements) {
    const key = keys.get(envelope.keyId);
    if (!key) {
      problems.push(`key ${envelope.keyId} is not among the trusted keys given`);
      continue;
    }
    const opened = openEnvelope(envelope, key);
    if (!opened.ok) {
      problems.push(opened.reason);
      continue;
    }
    const other = subjectMismatch(opened.statement, image.sha256, size);
    if (other) problems.push(other);
    else return null;
  }
  return `image '${image.name}' (sha256 ${image.sha256}) has no statement that holds on this node, so the agent does not boot it: ${problems.join('; ')}`;
}
