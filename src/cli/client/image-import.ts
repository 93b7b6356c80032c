// vws image import FILE --name N [--format F] [description options] [--visibility V --group G]:
// an image of another format (vmdk, vdi) becomes a qcow2 with qemu-img convert, then is added like
// `vws image add` with its description. The format is probed from the content, never from the
// file's name: a declared --format that disagrees is refused, and so is an image that reads other
// files (a backing file, a data file, a vmdk's extents), which are paths on this host that
// qemu-img convert would read into the image and upload.
//
// qcow2 and raw are uploaded as they are, not converted: they are what the server keeps and agents
// boot, and the bytes stay the ones their provider published, whose sha256 a checksum file or a
// signed statement names (a conversion's output differs with the qemu-img version).

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertToQcow2, imageFileInfo, IMPORT_FORMATS, notSelfContained, QemuImgError } from '../../api/image-file.ts';
import type { ImageFormat } from '../../store/store.ts';
import { UsageError } from '../usage-error.ts';
import { type Command, emit } from './command.ts';
import { descriptionOf } from './image-description.ts';
import { addFile } from './image-commands.ts';

const importImage: Command = async (args) => {
  const file = args.positionals[0];
  const name = args.required('name', 'NAME (what to register the image as)');
  const declared = args.string('format');
  try {
    if (!statSync(file).isFile()) throw new UsageError(`${file} is not a regular file: give an image file`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const info = await imageFileInfo(file).catch((e: unknown) => {
    throw e instanceof QemuImgError ? new UsageError(`${file}: ${e.message}`) : e;
  });
  if (!(IMPORT_FORMATS as readonly string[]).includes(info.format)) {
    throw new UsageError(`${file} is a ${info.format} image; vws image import takes ${IMPORT_FORMATS.join(', ')}: convert it with qemu-img first`);
  }
  if (declared !== undefined && declared !== info.format) {
    throw new UsageError(`${file} is a ${info.format} image, not ${declared} as --format says: nothing was imported. Check the file (qemu-img info ${file}), or leave --format out`);
  }
  const problem = notSelfContained(info);
  if (problem) throw new UsageError(`${file}: ${problem}. Nothing was imported`);
  const stored: ImageFormat = info.format === 'raw' ? 'raw' : 'qcow2';
  const description = { ...descriptionOf(args), format: stored };
  const work = stored === info.format ? null : mkdtempSync(join(tmpdir(), 'vws-import-'));
  try {
    let path = file;
    if (work) {
      path = join(work, `${name}.qcow2`);
      await convertToQcow2(file, info.format, path);
    }
    const done = await addFile(args, name, path, { description });
    const how = work ? `converted from ${info.format} to qcow2` : `kept as ${stored}`;
    return emit(args, { image: done.image, upload: done.upload, converted: work ? { from: info.format, to: stored } : null }, () => `${done.text}; ${how}`);
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
};

export const IMPORT_COMMAND: Command = importImage;
