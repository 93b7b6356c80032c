import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { issueToken } from '../auth.ts';
import { ApiError, forbidden, invalidRequest, notFound } from '../errors.ts';
import { LONGEST_SECONDS } from '../limits.ts';
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
    ctx.rightsChanged.emit('changed');
    return reply.code(201).send({ group: name, members: await ctx.store.membersOf(name) });
  });

  app.delete('/v1/groups/:name/members/:user', { ...role('admin'), schema: { tags: ['users'] } }, async (req) => {
    const { name, user } = req.params as { name: string; user: string };
    if (!(await ctx.store.getGroup(name))) throw notFound('group', name);
    await ctx.store.removeMember(name, user);
    ctx.rightsChanged.emit('changed');
    return { group: name, members: await ctx.store.membersOf(name) };
  });

  app.post('/v1/users/:id/tokens', { ...role('user'), schema: { body: Type.Union([TokenBody, Type.Null()]), tags: ['users'], summary: 'Issue a token: shown once, stored only as a hash (the body is optional)' } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!req.caller.user.isAdmin && req.caller.user.id !== id) throw forbidden('you may only make tokens for yourself');
    if (!(await ctx.store.getUser(id))) throw notFound('user', id);
    const b = (req.body ?? {}) as { label?: string; expiresIn?: number };
    const now = ctx.now();
    // Every token made here expires, at the latest when the one that made it does.
    const callerLeft = req.caller.tokenExpiresAt === null ? Infinity : req.caller.tokenExpiresAt - now;
    if (b.expiresIn !== undefined && b.expiresIn > callerLeft) {
      throw invalidRequest('body.expiresIn', `the token you call with expires in ${callerLeft} s: a token it makes cannot outlive it; ask for at most ${callerLeft}`);
    }
    const expiresIn = b.expiresIn ?? Math.min(LONGEST_SECONDS, callerLeft);
    const issued = await issueToken(ctx.store, id, b.label ?? '', now, expiresIn);
    return reply.code(201).send({ ...issued, user: id });
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(`/v1/users/:id/${action}`, { ...role('admin'), schema: { tags: ['users'], summary: disabled ? 'Disable a user: all its tokens stop at once; its leases stay' : 'Enable a disabled user again' } }, async (req) => {
      const { id } = req.params as { id: string };
      const user = await ctx.store.getUser(id);
      if (!user) throw notFound('user', id);
      if (disabled && id === req.caller.user.id) throw new ApiError('wrong-state', 'you cannot disable yourself: another administrator can');
      await ctx.store.putUser({ ...user, disabled });
      ctx.rightsChanged.emit('changed');
      return { ...user, disabled };
    });
  }

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
    ctx.rightsChanged.emit('changed');
    return { deleted: id };
  });
}
