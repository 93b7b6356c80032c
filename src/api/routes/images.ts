import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ApiError, forbidden, notFound } from '../errors.ts';
import { ImageBody } from '../schemas.ts';
import type { ImageBoot } from '../../store/store.ts';
import type { ApiContext } from '../context.ts';
import { role } from '../route-roles.ts';

const MIB = 1024 * 1024;

/** Images by name with size and sha256; their content is kept by hash (content-addressed) and verified on upload. */
export function registerImageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: 4096 * MIB }, (_req, body, done) => done(null, body));

  app.post('/v1/images', { ...role('user'), schema: { body: ImageBody, tags: ['images'], summary: 'Register an image by name, size and sha256' } }, async (req, reply) => {
    const b = req.body as { name: string; sizeMiB: number; sha256: string; boot?: ImageBoot };
    const existing = await ctx.store.getImage(b.name);
    if (existing) throw new ApiError('already-exists', `image '${b.name}' is registered (sha256 ${existing.sha256}); pick another name`);
    for (const part of b.boot ? [b.boot.kernel, b.boot.initrd] : []) {
      if (!(await ctx.store.getImage(part))) throw new ApiError('unknown-image', `boot names image '${part}', which is not registered: register the kernel and initrd first`, { path: 'body.boot' });
    }
    const row = { ...b, owner: req.caller.user.id, uploaded: existsSync(join(ctx.blobDir, b.sha256)), createdAt: ctx.now(), boot: b.boot ?? null };
    await ctx.store.putImage(row);
    return reply.code(201).send(row);
  });

  app.get('/v1/images', { ...role('user'), schema: { tags: ['images'] } }, async () => ({ images: await ctx.store.listImages() }));

  app.put('/v1/images/:name/content', { ...role('user'), schema: { tags: ['images'], summary: 'Upload the content (application/octet-stream); it must match the registered sha256' } }, async (req) => {
    const { name } = req.params as { name: string };
    const image = await ctx.store.getImage(name);
    if (!image) throw notFound('image', name);
    if (image.owner !== req.caller.user.id && !req.caller.user.isAdmin) throw forbidden(`image '${name}' is not yours to upload`);
    if (!Buffer.isBuffer(req.body)) throw new ApiError('unsupported-media-type', 'send the content as application/octet-stream');
    const sha256 = createHash('sha256').update(req.body).digest('hex');
    if (sha256 !== image.sha256) throw new ApiError('checksum-mismatch', `the content's sha256 is ${sha256}, not the registered ${image.sha256}: nothing was stored`);
    mkdirSync(ctx.blobDir, { recursive: true });
    const tmp = join(ctx.blobDir, `.${sha256}.${process.pid}`);
    writeFileSync(tmp, req.body);
    renameSync(tmp, join(ctx.blobDir, sha256));
    await ctx.store.putImage({ ...image, uploaded: true });
    return { name, sha256, bytes: req.body.length };
  });

  app.get('/v1/images/:name/content', { ...role('user'), schema: { tags: ['images'] } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const image = await ctx.store.getImage(name);
    if (!image || !image.uploaded) throw notFound('image content', name);
    reply.type('application/octet-stream').header('x-sha256', image.sha256);
    return reply.send(createReadStream(join(ctx.blobDir, image.sha256)));
  });
}
