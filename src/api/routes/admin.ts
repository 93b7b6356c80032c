import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { issueToken } from '../auth.ts';
import { ApiError, forbidden, notFound } from '../errors.ts';
import { GroupBody, MemberBody, TokenBody, UserBody } from '../schemas.ts';
import type { ApiContext } from '../context.ts';
import { role } from '../route-roles.ts';

/** Users, groups and tokens. Admins manage all; a user may list and make its own tokens. */
export function registerAdminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/whoami', { ...role('user'), schema: { tags: ['users'] } }, async (req) => ({ ...req.caller.user, groups: req.caller.groups }));

  app.post('/v1/users', { ...role('admin'), schema: { body: UserBody, tags: ['users'] } }, async (req, reply) => {
    const b = req.body as { name: string; admin?: boolean };
    if (await ctx.store.getUser(b.name)) throw new ApiError('already-exists', `user '${b.name}' exists: pick another name`);
    const user = { id: b.name, name: b.name, isAdmin: b.admin ?? false, createdAt: ctx.now() };
    await ctx.store.putUser(user);
    return reply.code(201).send(user);
  });

  app.get('/v1/users', { ...role('admin'), schema: { tags: ['users'] } }, async () => {
    return { users: await ctx.store.listUsers() };
  });

  app.post('/v1/groups', { ...role('admin'), schema: { body: GroupBody, tags: ['users'] } }, async (req, reply) => {
    const b = req.body as { name: string; shareLeases?: boolean };
    if (await ctx.store.getGroup(b.name)) throw new ApiError('already-exists', `group '${b.name}' exists: pick another name`);
    const group = { name: b.name, shareLeases: b.shareLeases ?? true, createdAt: ctx.now() };
    await ctx.store.putGroup(group);
    return reply.code(201).send(group);
  });

  app.get('/v1/groups', { ...role('admin'), schema: { tags: ['users'] } }, async () => {
    const groups = await ctx.store.listGroups();
    return { groups: await Promise.all(groups.map(async (g) => ({ ...g, members: await ctx.store.membersOf(g.name) }))) };
  });

  app.post('/v1/groups/:name/members', { ...role('admin'), schema: { body: MemberBody, tags: ['users'] } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const { user } = req.body as { user: string };
    if (!(await ctx.store.getGroup(name))) throw notFound('group', name);
    if (!(await ctx.store.getUser(user))) throw notFound('user', user);
    await ctx.store.addMember(name, user);
    return reply.code(201).send({ group: name, members: await ctx.store.membersOf(name) });
  });

  app.delete('/v1/groups/:name/members/:user', { ...role('admin'), schema: { tags: ['users'] } }, async (req) => {
    const { name, user } = req.params as { name: string; user: string };
    if (!(await ctx.store.getGroup(name))) throw notFound('group', name);
    await ctx.store.removeMember(name, user);
    return { group: name, members: await ctx.store.membersOf(name) };
  });

  app.post('/v1/users/:id/tokens', { ...role('user'), schema: { body: Type.Union([TokenBody, Type.Null()]), tags: ['users'], summary: 'Issue a token: shown once, stored only as a hash (the body is optional)' } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!req.caller.user.isAdmin && req.caller.user.id !== id) throw forbidden('you may only make tokens for yourself');
    if (!(await ctx.store.getUser(id))) throw notFound('user', id);
    const b = (req.body ?? {}) as { label?: string; expiresIn?: number };
    const issued = await issueToken(ctx.store, id, b.label ?? '', ctx.now(), b.expiresIn);
    return reply.code(201).send({ ...issued, user: id });
  });

  app.get('/v1/users/:id/tokens', { ...role('user'), schema: { tags: ['users'] } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!req.caller.user.isAdmin && req.caller.user.id !== id) throw forbidden('you may only list your own tokens');
    return { tokens: (await ctx.store.tokensOf(id)).map(({ hash: _, ...t }) => t) };
  });

  app.delete('/v1/tokens/:id', { ...role('user'), schema: { tags: ['users'] } }, async (req) => {
    const { id } = req.params as { id: string };
    const mine = (await ctx.store.tokensOf(req.caller.user.id)).some((t) => t.id === id);
    if (!req.caller.user.isAdmin && !mine) throw notFound('token', id);
    if (!(await ctx.store.deleteToken(id))) throw notFound('token', id);
    return { deleted: id };
  });
}
