// vws image add NAME --file PATH [--kernel IMAGE --initrd IMAGE --cmdline TEXT] [--visibility V
// --group G] | list | share NAME --visibility V [--group G]. An image is registered by size and
// sha256 (and how it boots, if it has no boot loader), then its content is uploaded; the server
// checks the content against the registered hash. Who sees it: the server's rule (private unless
// asked; only administrators make one public).

import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { UsageError } from '../usage-error.ts';
import { type Command, connect, emit, enc } from './command.ts';
import { ApiFailure } from './errors.ts';
import type { Api } from './http.ts';
import type { ImageRow } from '../../store/store.ts';
import { table, when } from './tables.ts';

const MIB = 1024 * 1024;

/** The API answers with the image's row as the server keeps it. */
type ImageBody = ImageRow;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Registers the image; if a failed `image add` already registered the same content, carries on from there. */
async function register(api: Api, name: string, sizeMiB: number, sha256: string, boot: ImageRow['boot'] | undefined, sharing: Sharing): Promise<ImageBody> {
  try {
    return (await api.send<ImageBody>('POST', '/v1/images', { name, sizeMiB, sha256, ...(boot ? { boot } : {}), ...sharing })).body;
  } catch (e) {
    if (!(e instanceof ApiFailure) || e.body.code !== 'already-exists') throw e;
    const existing = (await api.get<{ images: ImageBody[] }>('/v1/images')).body.images.find((i) => i.name === name);
    if (!existing || existing.sha256 !== sha256 || existing.uploaded) throw e;
    return existing;
  }
}

type Sharing = { visibility?: string; group?: string };

const sharingOf = (args: Parameters<Command>[0]): Sharing => {
  const [visibility, group] = [args.string('visibility'), args.string('group')];
  return { ...(visibility ? { visibility } : {}), ...(group ? { group } : {}) };
};

const add: Command = async (args) => {
  const name = args.positionals[0];
  const path = args.required('file', 'PATH (the image content)');
  const [kernel, initrd] = [args.string('kernel'), args.string('initrd')];
  if (Boolean(kernel) !== Boolean(initrd)) throw new UsageError('--kernel and --initrd go together: a disk without a boot loader needs both (images registered before this one)');
  const boot = kernel && initrd ? { kernel, initrd, cmdline: args.string('cmdline') ?? '' } : undefined;
  let bytes: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    bytes = st.size;
  } catch (e) {
    throw new UsageError(`--file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const sha256 = await sha256Of(path);
  // The API counts whole MiB; a partial MiB still takes room, so round up.
  const sizeMiB = Math.max(1, Math.ceil(bytes / MIB));
  const api = connect(args);
  const image = await register(api, name, sizeMiB, sha256, boot, sharingOf(args));
  // The server keeps content by hash: content of an image this user sees need not be sent again.
  const upload = image.uploaded ? null : (await api.upload<{ name: string; sha256: string; bytes: number }>(`/v1/images/${enc(name)}/content`, Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, bytes)).body;
  return emit(args, { image: { ...image, uploaded: true }, upload }, () => `image ${name} added: ${bytes} bytes (${sizeMiB} MiB), sha256 ${sha256}${upload ? '' : ' (content already on the server)'}`);
};

const list: Command = async (args) => {
  const res = await connect(args).get<{ images: ImageBody[] }>('/v1/images');
  return emit(args, res.body, () =>
    res.body.images.length === 0
      ? 'no images'
      : table(['NAME', 'SIZE MiB', 'SHA256', 'OWNER', 'VISIBILITY', 'UPLOADED', 'CREATED'], res.body.images.map((i) => [i.name, String(i.sizeMiB), i.sha256.slice(0, 16), i.owner, i.visibility === 'group' ? `group ${i.group}` : i.visibility, i.uploaded ? 'yes' : 'no', when(i.createdAt)])));
};

const share: Command = async (args) => {
  const name = args.positionals[0];
  const sharing = sharingOf(args);
  if (!sharing.visibility && !sharing.group) throw new UsageError('say who sees it: --visibility private|group|public, --group G, or both');
  const image = (await connect(args).send<ImageBody>('PATCH', `/v1/images/${enc(name)}`, sharing)).body;
  return emit(args, image, () => `image ${name} is ${image.visibility === 'group' ? `shared with group ${image.group}` : image.visibility}`);
};

export const IMAGE_COMMANDS: Record<string, Command> = { add, list, share };
