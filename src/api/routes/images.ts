import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ApiError, invalidRequest, notFound } from '../errors.ts';
import { canSeeImage, groupAtRegistration, ownImage, type SharingAsked, sharingOf, visibleImage } from '../image-rights.ts';
import { Image, ImageBody, ImageList, ImageNameParam, ImagePatch } from '../schemas.ts';
import { ImageQuery } from '../image-schemas.ts';
import { type ImageFilter, matches, storedFormat, withFormat } from '../image-catalogue.ts';
import type { ImageBoot, ImageDescription, ImageRow } from '../../store/store.ts';
import type { ApiContext } from '../context.ts';
import { role } from '../route-roles.ts';

const MIB = 1024 * 1024;

/**
 * Images by name with size, sha256 and description (the appliance catalogue); their content is
 * kept by hash (content-addressed) and verified on upload: its hash, and that it is a qcow2 or raw
 * image of the described format that reads no other file (../image-catalogue.ts). Who sees, uses
 * and changes an image: ../image-rights.ts.
 */
export function registerImageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Content is not read here but by the route, once it knows the image is the caller's: streamed to disk while hashed.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.post('/v1/images', { ...role('user'), schema: { body: ImageBody, response: { 201: Image }, tags: ['images'], summary: 'Register an image by name, size, sha256 and description (private unless asked; only administrators make one public)' } }, async (req, reply) => {
    const { visibility, group, description, ...b } = req.body as { name: string; sizeMiB: number; sha256: string; boot?: ImageBoot; description?: ImageDescription } & SharingAsked;
    const caller = req.caller;
    const existing = await ctx.store.getImage(b.name);
    // Names are one namespace, so a taken name is said to be taken; what holds it is said only to whoever may see it.
    if (existing) throw new ApiError('already-exists', canSeeImage(caller, existing) ? `image '${b.name}' is registered (sha256 ${existing.sha256}); pick another name` : `the image name '${b.name}' is taken; pick another name`);
    for (const part of b.boot ? [b.boot.kernel, b.boot.initrd] : []) {
      const found = await ctx.store.getImage(part);
      if (!found || !canSeeImage(caller, found)) throw new ApiError('unknown-image', `boot names image '${part}', which is not registered: register the kernel and initrd first`, { path: 'body.boot' });
    }
    const sharing = await sharingOf(ctx.store, caller, { visibility, group }, { visibility: 'private', group: groupAtRegistration(caller) });
    // Stored content is shared only with whoever could already read it: through an image it sees
    // whose content is uploaded. Anyone else uploads the bytes (checked against the hash) and is
    // told uploaded:false whether or not they are stored, so the answer does not say they are.
    const seen = (await ctx.store.imagesWithSha256(b.sha256)).some((i) => i.uploaded && canSeeImage(caller, i));
    const blob = join(ctx.blobDir, b.sha256);
    const uploaded = seen && existsSync(blob);
    // Content already stored is held to the same rule as an upload (it may have been kept before the rule).
    const stored = uploaded ? withFormat(description ?? null, await storedFormat(blob, description?.format, 'nothing was registered')) : null;
    const row: ImageRow = { ...b, owner: caller.user.id, ...sharing, uploaded, createdAt: ctx.now(), boot: b.boot ?? null, description: stored ?? description ?? null };
    await ctx.store.putImage(row);
    return reply.code(201).send(row);
  });

  app.get('/v1/images', { ...role('user'), schema: { querystring: ImageQuery, response: { 200: ImageList }, tags: ['images'], summary: 'The catalogue: the images the caller may see, narrowed by the filters given (os, provides, ...)' } }, async (req) => {
    const filter = req.query as ImageFilter;
    return { images: (await ctx.store.listImages()).filter((i) => canSeeImage(req.caller, i) && matches(i, filter)) };
  });

  app.get('/v1/images/:name', { ...role('user'), schema: { params: ImageNameParam, response: { 200: Image }, tags: ['images'], summary: 'One image the caller may see, with its description' } }, async (req) => (
    visibleImage(ctx.store, req.caller, (req.params as { name: string }).name)
  ));

  app.patch('/v1/images/:name', { ...role('user'), schema: { params: ImageNameParam, body: ImagePatch, response: { 200: Image }, tags: ['images'], summary: 'Change who sees the image, or its description (its owner or an administrator; only administrators make it public)' } }, async (req) => {
    const { name } = req.params as { name: string };
    const { description, ...asked } = req.body as SharingAsked & { description?: ImageDescription | null };
    if (asked.visibility === undefined && asked.group === undefined && description === undefined) throw invalidRequest('body', 'name the visibility (private, group or public), the group, the description, or some of them');
    const image = await ownImage(ctx.store, req.caller, name, 'change');
    const row = { ...image, ...(await sharingOf(ctx.store, req.caller, asked, image)), ...(description === undefined ? {} : { description: described(image, description) }) };
    await ctx.store.putImage(row);
    return row;
  });

  app.put('/v1/images/:name/content', { ...role('user'), schema: { params: ImageNameParam, tags: ['images'], summary: 'Upload the content (application/octet-stream); it must match the registered sha256' } }, async (req) => {
    const { name } = req.params as { name: string };
    const image = await ownImage(ctx.store, req.caller, name, 'upload the content of');
    const body = req.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') throw new ApiError('unsupported-media-type', 'send the content as application/octet-stream');
    const limit = image.sizeMiB * MIB;
    // Content is the owner's: a private directory and private files, whatever the umask.
    mkdirSync(ctx.blobDir, { recursive: true, mode: 0o700 });
    const tmp = join(ctx.blobDir, `.upload-${req.id}`);
    try {
      const got = await receive(body, limit, tmp, `the content is larger than the registered ${image.sizeMiB} MiB: nothing was stored`);
      if (got.sha256 !== image.sha256) throw new ApiError('checksum-mismatch', `the content's sha256 is ${got.sha256}, not the registered ${image.sha256}: nothing was stored`);
      // Checked before it is renamed into place, where agents would fetch it.
      const format = await storedFormat(tmp, image.description?.format, 'nothing was stored');
      renameSync(tmp, join(ctx.blobDir, got.sha256));
      await ctx.store.putImage({ ...image, uploaded: true, description: withFormat(image.description, format) });
      return { name, sha256: got.sha256, bytes: got.bytes };
    } finally {
      rmSync(tmp, { force: true });
    }
  });

  app.get('/v1/images/:name/content', { ...role('user'), schema: { params: ImageNameParam, tags: ['images'], summary: 'Download the content of an image the caller may see' } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const image = await visibleImage(ctx.store, req.caller, name, 'image content');
    if (!image.uploaded) throw notFound('image content', name);
    reply.type('application/octet-stream').header('x-sha256', image.sha256);
    return reply.send(createReadStream(join(ctx.blobDir, image.sha256)));
  });
}

/**
 * The description a PATCH sets: replaced whole, except that the format of uploaded content is a
 * fact of the content, kept when the new description leaves it out (or is null) and never contradicted.
 */
function described(image: ImageRow, next: ImageDescription | null): ImageDescription | null {
  const stored = image.uploaded ? image.description?.format : undefined;
  if (stored === undefined) return next;
  if (next?.format !== undefined && next.format !== stored) {
    throw invalidRequest('body.description.format', `the uploaded content of '${image.name}' is ${stored}: leave format out, or register the ${next.format} content as another image`);
  }
  return withFormat(next, stored);
}

/**
 * Writes the body to `file` while hashing it. Past `limit` bytes it stops reading, without
 * destroying the request, so that the client still gets the answer (Node discards the rest).
 */
function receive(body: Readable, limit: number, file: string, tooLarge: string): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file, { mode: 0o600 });
    const hash = createHash('sha256');
    let bytes = 0;
    const stop = (err: Error): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.pause();
      out.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > limit) return stop(new ApiError('too-large', tooLarge));
      hash.update(chunk);
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    };
    const onEnd = (): void => void out.end(() => resolve({ bytes, sha256: hash.digest('hex') }));
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', stop);
    out.once('error', stop);
  });
}
