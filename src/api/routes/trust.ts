// The image trust routes (issue 17, item 5; docs/trust.md): administrators say which signers the
// site trusts, for which claims, and what images need to run; image owners attach the statements
// their providers signed; anyone who sees an image asks whether it may run it, and why not.

import type { FastifyInstance } from 'fastify';
import { keyIdOf, openEnvelope, type StatementEnvelope as Envelope, subjectMismatch } from '../../drivers/image-statement.ts';
import type { TrustPolicy as Policy } from '../../drivers/trust-policy.ts';
import type { SignerRow } from '../../store/trust-records.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, invalidRequest, notFound } from '../errors.ts';
import { ownImage, visibleImage } from '../image-rights.ts';
import { imageVerdict, sitePolicy } from '../image-trust.ts';
import { role } from '../route-roles.ts';
import { ImageNameParam } from '../schemas.ts';
import { Signer, SignerBody, SignerList, SignerNameParam, StatementEnvelope, TrustPolicy, TrustPolicyBody } from '../trust-schemas.ts';

export function registerTrustRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/trust/signers', { ...role('user'), schema: { response: { 200: SignerList }, tags: ['trust'], summary: 'The signers this site trusts, and for which claims' } }, async () => (
    { signers: await ctx.store.listSigners() }
  ));

  app.post('/v1/trust/signers', { ...role('admin'), schema: { body: SignerBody, response: { 201: Signer }, tags: ['trust'], summary: 'Trust a signer (an Ed25519 public key), for every claim or the ones named' } }, async (req, reply) => {
    const b = req.body as { name: string; publicKey: string; claims?: string[] };
    let keyId: string;
    try {
      keyId = keyIdOf(b.publicKey);
    } catch (e) {
      throw invalidRequest('body.publicKey', (e as Error).message);
    }
    const row: SignerRow = { name: b.name, keyId, publicKey: b.publicKey, claims: b.claims ?? null, addedBy: req.caller.user.id, addedAt: ctx.now() };
    if (!(await ctx.store.addSigner(row))) {
      const taken = (await ctx.store.listSigners()).find((s) => s.name === b.name || s.keyId === keyId)!;
      throw new ApiError('already-exists', taken.name === b.name ? `a signer named '${b.name}' is trusted already: remove it first to change its key` : `key ${keyId} is trusted already, as '${taken.name}'`);
    }
    return reply.code(201).send(row);
  });

  app.delete('/v1/trust/signers/:name', { ...role('admin'), schema: { params: SignerNameParam, tags: ['trust'], summary: 'Stop trusting a signer: images it alone signed no longer run where the policy requires signing' } }, async (req) => {
    const { name } = req.params as { name: string };
    if (!(await ctx.store.deleteSigner(name))) throw notFound('signer', name);
    return { removed: name };
  });

  const policyOut = async () => {
    const row = await ctx.store.trustPolicy();
    return { ...(row?.policy ?? (await sitePolicy(ctx.store))), updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt ?? null };
  };

  app.get('/v1/trust/policy', { ...role('user'), schema: { response: { 200: TrustPolicy }, tags: ['trust'], summary: "The site's trust requirement for images (none until an administrator sets one)" } }, policyOut);

  app.put('/v1/trust/policy', { ...role('admin'), schema: { body: TrustPolicyBody, response: { 200: TrustPolicy }, tags: ['trust'], summary: "Set the site's trust requirement; it applies to leases quoted and created from now on" } }, async (req) => {
    const policy = req.body as Policy;
    const names = policy.claims.map((c) => c.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw invalidRequest('body.claims', `claim '${twice}' is named twice: name each claim once`);
    await ctx.store.putTrustPolicy({ policy, updatedBy: req.caller.user.id, updatedAt: ctx.now() });
    return policyOut();
  });

  app.post('/v1/images/:name/statements', { ...role('user'), schema: { params: ImageNameParam, body: StatementEnvelope, tags: ['trust'], summary: "Attach a signed statement to the image (its owner or an administrator); it must verify and be about the image's content" } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const image = await ownImage(ctx.store, req.caller, name, 'attach statements to');
    const envelope = req.body as Envelope;
    const opened = openEnvelope(envelope);
    if (!opened.ok) throw new ApiError('invalid-statement', `the statement does not verify: ${opened.reason}; nothing was attached`, { path: 'body' });
    const other = subjectMismatch(opened.statement, image.sha256);
    if (other) throw new ApiError('invalid-statement', `${other}: sign the content registered as '${name}' (vws image sign FILE --name ${name}); nothing was attached`, { path: 'body.payload' });
    await ctx.store.putImageStatement({ image: name, keyId: envelope.keyId, envelope, attachedBy: req.caller.user.id, attachedAt: ctx.now() });
    return reply.code(201).send({ image: name, keyId: envelope.keyId, statement: opened.statement });
  });

  app.get('/v1/images/:name/statements', { ...role('user'), schema: { params: ImageNameParam, tags: ['trust'], summary: "The image's statements, who signed them, and whether the site's policy lets the caller run it, with the reasons" } }, async (req) => {
    const { name } = req.params as { name: string };
    const image = await visibleImage(ctx.store, req.caller, name);
    const signers = await ctx.store.listSigners();
    const statements = (await ctx.store.imageStatements(name)).map((s) => {
      const opened = openEnvelope(s.envelope as Envelope);
      return {
        keyId: s.keyId, signer: signers.find((x) => x.keyId === s.keyId)?.name ?? null, attachedBy: s.attachedBy, attachedAt: s.attachedAt,
        statement: opened.ok ? opened.statement : null, ...(opened.ok ? {} : { problem: opened.reason }),
      };
    });
    const policy = await sitePolicy(ctx.store);
    const verdict = await imageVerdict(ctx.store, image, req.caller.user.isAdmin, ctx.now(), policy);
    return { image: name, sha256: image.sha256, policy: policy.require, accepted: verdict.accepted, reasons: verdict.reasons, statements };
  });
}
