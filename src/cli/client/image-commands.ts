// vws image add NAME --file PATH [--kernel IMAGE --initrd IMAGE --cmdline TEXT] [--visibility V
// --group G] [description options] | list [filters] | show NAME | describe NAME [description
// options] | share NAME --visibility V [--group G]; import is in image-import.ts. An image is
// registered by size, sha256 and description (and how it boots, if it has no boot loader), then
// its content is uploaded; the server checks the content against the registered hash and format.
// Who sees it: the server's rule (private unless asked; only administrators make one public).

import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { UsageError } from '../usage-error.ts';
import { type Command, connect, emit, enc } from './command.ts';
import { ApiFailure } from './errors.ts';
import type { Api } from './http.ts';
import type { ImageDescription, ImageRow } from '../../store/store.ts';
import { descriptionOf, imageText, LIST_HEAD, listRow } from './image-description.ts';
import { table } from './tables.ts';

const MIB = 1024 * 1024;

/** The API answers with the image's row as the server keeps it. */
type ImageBody = ImageRow;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Registers the image; if a failed `image add` already registered the same content, carries on from there. */
async function register(api: Api, name: string, sizeMiB: number, sha256: string, extra: Registration): Promise<ImageBody> {
  try {
    return (await api.send<ImageBody>('POST', '/v1/images', { name, sizeMiB, sha256, ...extra })).body;
  } catch (e) {
    if (!(e instanceof ApiFailure) || e.body.code !== 'already-exists') throw e;
    const existing = (await api.get<{ images: ImageBody[] }>('/v1/images')).body.images.find((i) => i.name === name);
    if (!existing || existing.sha256 !== sha256 || existing.uploaded) throw e;
    return existing;
  }
}

type Sharing = { visibility?: string; group?: string };
type Registration = Sharing & { boot?: ImageRow['boot']; description?: ImageDescription };

const sharingOf = (args: Parameters<Command>[0]): Sharing => {
  const [visibility, group] = [args.string('visibility'), args.string('group')];
  return { ...(visibility ? { visibility } : {}), ...(group ? { group } : {}) };
};

/** Registers `name` for the file at `path` and uploads it, unless the server has its content: what image add and import print. */
export async function addFile(args: Parameters<Command>[0], name: string, path: string, extra: Omit<Registration, keyof Sharing>): Promise<{ image: ImageBody; upload: { name: string; sha256: string; bytes: number } | null; text: string }> {
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
  const registered = await register(api, name, sizeMiB, sha256, { ...extra, ...sharingOf(args) });
  // The server keeps content by hash: content of an image this user sees need not be sent again.
  const upload = registered.uploaded ? null : (await api.upload<{ name: string; sha256: string; bytes: number }>(`/v1/images/${enc(name)}/content`, Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, bytes)).body;
  // The upload sets what the server found (the format): the image as it is kept now.
  const image = upload ? (await api.get<ImageBody>(`/v1/images/${enc(name)}`)).body : registered;
  return { image, upload, text: `image ${name} added: ${bytes} bytes (${sizeMiB} MiB), sha256 ${sha256}${upload ? '' : ' (content already on the server)'}` };
}

const add: Command = async (args) => {
  const name = args.positionals[0];
  const path = args.required('file', 'PATH (the image content)');
  const [kernel, initrd] = [args.string('kernel'), args.string('initrd')];
  if (Boolean(kernel) !== Boolean(initrd)) throw new UsageError('--kernel and --initrd go together: a disk without a boot loader needs both (images registered before this one)');
  const boot = kernel && initrd ? { kernel, initrd, cmdline: args.string('cmdline') ?? '' } : undefined;
  const description = descriptionOf(args);
  const done = await addFile(args, name, path, { ...(boot ? { boot } : {}), ...(description ? { description } : {}) });
  return emit(args, { image: done.image, upload: done.upload }, () => done.text);
};

/** GET /v1/images' filters, from the options of the same names. */
const FILTERS = ['os', 'release', 'provides', 'requires', 'format', 'owner', 'maintainer', 'cpu', 'memory'] as const;

const list: Command = async (args) => {
  const query = new URLSearchParams();
  for (const f of FILTERS) {
    const v = args.string(f);
    if (v !== undefined) query.set(f === 'memory' ? 'memoryMiB' : f, v);
  }
  const res = await connect(args).get<{ images: ImageBody[] }>(`/v1/images${query.size > 0 ? `?${query}` : ''}`);
  return emit(args, res.body, () => (res.body.images.length === 0 ? 'no images' : table(LIST_HEAD, res.body.images.map(listRow))));
};

const show: Command = async (args) => {
  const image = (await connect(args).get<ImageBody>(`/v1/images/${enc(args.positionals[0])}`)).body;
  return emit(args, image, () => imageText(image));
};

/** `given` over `current`, the minimum and the OS field by field: --min-cpu alone keeps the minimum memory. */
function merged(current: ImageDescription, given: ImageDescription): ImageDescription {
  const out = { ...current, ...given };
  if (current.minimum && given.minimum) out.minimum = { ...current.minimum, ...given.minimum };
  if (current.os && given.os) out.os = { ...current.os, ...given.os };
  return out;
}

/** Changes the fields given and keeps the others (the API replaces the description whole); --clear starts from none. */
const describe: Command = async (args) => {
  const name = args.positionals[0];
  const given = descriptionOf(args);
  const clear = args.flag('clear');
  if (!given && !clear) throw new UsageError('say what to change: --image-version, --os, --summary, --min-cpu, ... (vws image describe --help), or --clear');
  const api = connect(args);
  const current = clear ? null : (await api.get<ImageBody>(`/v1/images/${enc(name)}`)).body.description;
  const description = given ? merged(current ?? {}, given) : null;
  const image = (await api.send<ImageBody>('PATCH', `/v1/images/${enc(name)}`, { description })).body;
  return emit(args, image, () => imageText(image));
};

const share: Command = async (args) => {
  const name = args.positionals[0];
  const sharing = sharingOf(args);
  if (!sharing.visibility && !sharing.group) throw new UsageError('say who sees it: --visibility private|group|public, --group G, or both');
  const image = (await connect(args).send<ImageBody>('PATCH', `/v1/images/${enc(name)}`, sharing)).body;
  return emit(args, image, () => `image ${name} is ${image.visibility === 'group' ? `shared with group ${image.group}` : image.visibility}`);
};

export const IMAGE_COMMANDS: Record<string, Command> = { add, list, show, describe, share };
