// A user's access keys for the EC2-compatible front-end (src/ec2, docs/ec2.md): issued here, the
// secret shown once and kept sealed by the server's key (store/secret-box.ts).

import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Caller } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { forbidden, notFound } from '../errors.ts';
import { role } from '../route-roles.ts';
import type { SecretBox } from '../../store/secret-box.ts';
import { Type } from '@sinclair/typebox';
import { IdParam } from '../schemas.ts';

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** AKIA and 16 characters of A-Z2-7, AWS's form (20 characters). */
function newAccessKeyId(): string {
  return `AKIA${[...randomBytes(16)].map((b) => KEY_ID_ALPHABET[b % 32]).join('')}`;
}

/** 40 characters of base64 (30 random bytes). */
const newSecret = (): string => randomBytes(30).toString('base64');

function mayManage(caller: Caller, user: string, what: string): void {
  if (!caller.user.isAdmin && caller.user.id !== user) throw forbidden(`you may only ${what} your own EC2 credentials`);
}

const strict = { additionalProperties: false } as const;

/** The request carries nothing (a body, if any, is an empty object): a key is made, not described. */
const NoFields = Type.Union([Type.Object({}, { ...strict, description: 'no fields' }), Type.Null()]);
const KeyParams = Type.Object({ id: IdParam.properties.id, keyId: Type.String({ pattern: '^AKIA[A-Z2-7]{16}$', description: 'an access key id as issued: AKIA and 16 of A-Z, 2-7' }) }, strict);

export function registerEc2CredentialRoutes(app: FastifyInstance, ctx: ApiContext, box: SecretBox): void {
  const tags = ['users'];
  app.post('/v1/users/:id/ec2-credentials', { ...role('user'), schema: { params: IdParam, body: NoFields, tags, summary: 'Issue an EC2 access key for the EC2 front-end: the secret is shown once' } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    mayManage(req.caller, id, 'make');
    if (!(await ctx.store.getUser(id))) throw notFound('user', id);
    const accessKeyId = newAccessKeyId();
    const secretAccessKey = newSecret();
    await ctx.store.putEc2Credential({ accessKeyId, userId: id, sealedSecret: box.seal(secretAccessKey, accessKeyId), createdAt: ctx.now() });
    return reply.code(201).send({ accessKeyId, secretAccessKey, user: id });
  });

  app.get('/v1/users/:id/ec2-credentials', { ...role('user'), schema: { params: IdParam, tags, summary: 'A user\'s EC2 access key ids (never the secrets)' } }, async (req) => {
    const { id } = req.params as { id: string };
    mayManage(req.caller, id, 'list');
    return { credentials: (await ctx.store.ec2CredentialsOf(id)).map((c) => ({ accessKeyId: c.accessKeyId, createdAt: c.createdAt })) };
  });

  app.delete('/v1/users/:id/ec2-credentials/:keyId', { ...role('user'), schema: { params: KeyParams, tags, summary: 'Revoke an EC2 access key' } }, async (req) => {
    const { id, keyId } = req.params as { id: string; keyId: string };
    mayManage(req.caller, id, 'revoke');
    const row = await ctx.store.ec2Credential(keyId);
    if (!row || row.userId !== id || !(await ctx.store.deleteEc2Credential(keyId))) throw notFound('EC2 access key', keyId);
    return { deleted: keyId };
  });
}
