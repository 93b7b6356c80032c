// A site's trust policy for images (issue 17, item 5): which signers it trusts, for which claims,
// and what a lease's image needs before it runs. Pure: the API evaluates it when a lease is quoted
// and created, the driver to hand the agent what the acceptance rests on (image-statement.ts).

import { type ImageStatement, openEnvelope, secondsOf, type StatementEnvelope, subjectMismatch } from './image-statement.ts';

/**
 * none: any image runs (statements are kept and shown, nothing is required). signed: only images
 * with a valid statement by a trusted signer run. signed-unless-admin: the same, but
 * administrators may run unsigned images too (to try one before its provider signs it).
 */
export const TRUST_REQUIREMENTS = ['none', 'signed', 'signed-unless-admin'] as const;
export type TrustRequirement = (typeof TRUST_REQUIREMENTS)[number];

/** A claim the image must carry, from a signer trusted for it; a date-valued one no older than maxAgeDays. */
export interface RequiredClaim {
  name: string;
  maxAgeDays?: number;
}

export interface TrustPolicy {
  require: TrustRequirement;
  claims: RequiredClaim[];
}

export const DEFAULT_POLICY: TrustPolicy = { require: 'none', claims: [] };

export interface TrustedSigner {
  name: string;
  keyId: string;
  /** SPKI PEM. */
  publicKey: string;
  /** The claims it is trusted for; null: every claim. Its signature on the subject counts either way. */
  claims: string[] | null;
}

/** Why an image is not trusted: each one a short code and what a person can do about it. */
export type DistrustCode = 'unsigned' | 'unknown-signer' | 'bad-signature' | 'other-bytes' | 'expired' | 'claim-missing' | 'claim-untrusted' | 'claim-expired' | 'claim-too-old';

export interface Verdict {
  accepted: boolean;
  /** Empty when accepted. */
  reasons: Array<{ code: DistrustCode; message: string }>;
  /** The statements that the acceptance rests on, each with the signer that made it. */
  by: Array<{ envelope: StatementEnvelope; signer: TrustedSigner; statement: ImageStatement }>;
}

export interface TrustQuestion {
  image: { name: string; sha256: string };
  statements: readonly StatementEnvelope[];
  signers: readonly TrustedSigner[];
  policy: TrustPolicy;
  /** Epoch seconds. */
  now: number;
  isAdmin: boolean;
}

const DAY = 86_400;

/** Whether the policy lets this image run for this caller, and why not. */
export function evaluateTrust(q: TrustQuestion): Verdict {
  const verdict = checkStatements(q);
  if (q.policy.require === 'none' || (q.policy.require === 'signed-unless-admin' && q.isAdmin)) return { ...verdict, accepted: true, reasons: [] };
  return verdict;
}

/** What the statements establish under the policy, whatever its requirement. */
export function checkStatements(q: TrustQuestion): Verdict {
  const { image, now } = q;
  const reasons: Verdict['reasons'] = [];
  const valid: Verdict['by'] = [];
  for (const envelope of q.statements) {
    const signer = q.signers.find((s) => s.keyId === envelope.keyId);
    if (!signer) {
      reasons.push({ code: 'unknown-signer', message: `a statement on '${image.name}' is signed by key ${envelope.keyId}, which is not a trusted signer: an administrator adds it (vws trust add-signer)` });
      continue;
    }
    const opened = openEnvelope(envelope, signer.publicKey);
    if (!opened.ok) {
      reasons.push({ code: 'bad-signature', message: `the statement by ${signer.name} on '${image.name}' does not verify: ${opened.reason}` });
      continue;
    }
    const other = subjectMismatch(opened.statement, image.sha256);
    if (other) {
      reasons.push({ code: 'other-bytes', message: `the statement by ${signer.name} on '${image.name}' does not hold: ${other}` });
      continue;
    }
    if (opened.statement.expiresAt !== undefined && secondsOf(opened.statement.expiresAt) <= now) {
      reasons.push({ code: 'expired', message: `the statement by ${signer.name} on '${image.name}' expired at ${opened.statement.expiresAt}: ask its provider to sign it again` });
      continue;
    }
    valid.push({ envelope, signer, statement: opened.statement });
  }
  if (q.statements.length === 0) reasons.push({ code: 'unsigned', message: `image '${image.name}' is unsigned, and this site runs only images signed by a trusted signer: attach a statement (vws image sign FILE --upload)` });
  if (valid.length === 0) return { accepted: false, reasons, by: [] };
  const claimReasons: Verdict['reasons'] = [];
  const by = new Set<Verdict['by'][number]>([valid[0]]);
  for (const req of q.policy.claims) {
    const found = claimFrom(valid, req, now);
    if ('met' in found) by.add(found.met);
    else claimReasons.push(found.reason);
  }
  if (claimReasons.length > 0) return { accepted: false, reasons: claimReasons, by: [] };
  return { accepted: true, reasons: [], by: [...by] };
}

/** The valid statement that meets a required claim, or why none does (the most telling reason). */
function claimFrom(valid: Verdict['by'], req: RequiredClaim, now: number): { met: Verdict['by'][number] } | { reason: Verdict['reasons'][number] } {
  let reason: Verdict['reasons'][number] | null = null;
  for (const v of valid) {
    const claim = v.statement.claims[req.name];
    if (!claim) continue;
    if (v.signer.claims !== null && !v.signer.claims.includes(req.name)) {
      reason ??= { code: 'claim-untrusted', message: `signer ${v.signer.name} is not trusted for claim '${req.name}' (only for ${v.signer.claims.join(', ') || 'no claim'}): the claim must come from a signer trusted for it` };
      continue;
    }
    if (claim.expiresAt !== undefined && secondsOf(claim.expiresAt) <= now) {
      reason = { code: 'claim-expired', message: `claim '${req.name}' by ${v.signer.name} expired at ${claim.expiresAt}: ask its provider for a new statement` };
      continue;
    }
    if (req.maxAgeDays !== undefined) {
      const at = Date.parse(claim.value);
      if (Number.isNaN(at)) {
        reason = { code: 'claim-too-old', message: `claim '${req.name}' by ${v.signer.name} is '${claim.value}', not a date, and the policy wants it within ${req.maxAgeDays} days` };
        continue;
      }
      if (Math.floor(at / 1000) < now - req.maxAgeDays * DAY) {
        reason = { code: 'claim-too-old', message: `claim '${req.name}' by ${v.signer.name} is ${claim.value}, older than the ${req.maxAgeDays} days the policy allows: the image needs a newer statement` };
        continue;
      }
    }
    return { met: v };
  }
  return { reason: reason ?? { code: 'claim-missing', message: `the policy requires claim '${req.name}', which no trusted statement on the image makes` } };
}

/** The verdict's reasons as one sentence for a refusal. */
export const reasonText = (v: Verdict): string => v.reasons.map((r) => `${r.code}: ${r.message}`).join('; ');
