// The appliance catalogue: which images a listing's filters keep, what stored content must be
// (qcow2 or raw, of the format its description says, standing alone), and the minimum resources a
// lease's VMs must have to boot an image.

import type { Static } from '@sinclair/typebox';
import type { Resources } from '../core/types.ts';
import type { ImageDescription, ImageFormat, ImageRow } from '../store/store.ts';
import { belowMinimum } from '../control/image-minimum.ts';
import { ApiError } from './errors.ts';
import { imageFileInfo, notSelfContained, QemuImgError } from './image-file.ts';
import { FORMATS, type ImageQuery } from './image-schemas.ts';

export type ImageFilter = Static<typeof ImageQuery>;

/** Whether the image is one the filter asks for; an image whose description lacks a field asked about is not. */
export function matches(image: ImageRow, f: ImageFilter): boolean {
  const d = image.description ?? {};
  if (f.os !== undefined && d.os?.family !== f.os) return false;
  if (f.release !== undefined && d.os?.release !== f.release) return false;
  if (f.provides !== undefined && !(d.provides ?? []).includes(f.provides)) return false;
  if (f.requires !== undefined && !(d.requires ?? []).includes(f.requires)) return false;
  if (f.format !== undefined && d.format !== f.format) return false;
  if (f.owner !== undefined && image.owner !== f.owner) return false;
  if (f.maintainer !== undefined && !(d.maintainer ?? '').toLowerCase().includes(f.maintainer.toLowerCase())) return false;
  if (f.cpu !== undefined && (d.minimum?.cpu ?? 0) > f.cpu) return false;
  if (f.memoryMiB !== undefined && (d.minimum?.memoryMiB ?? 0) > f.memoryMiB) return false;
  return true;
}

/**
 * The format of the content in `file`, checked to be one the server keeps: qcow2 or raw as probed
 * from the bytes, the one `declared` (if any), and standing alone. Refused with
 * invalid-image-content otherwise; `after` ends each message (what happened to the content).
 */
export async function storedFormat(file: string, declared: ImageFormat | undefined, after: string): Promise<ImageFormat> {
  let info;
  try {
    info = await imageFileInfo(file);
  } catch (e) {
    // A server without qemu-img cannot check content, which is the server's fault, not the caller's.
    if (e instanceof QemuImgError && !e.missing) throw new ApiError('invalid-image-content', `qemu-img cannot read the content as an image (${e.message}): ${after}`);
    throw e;
  }
  const format = FORMATS.find((f) => f === info.format);
  if (format === undefined) {
    throw new ApiError('invalid-image-content', `the content is a ${info.format} image; the server keeps qcow2 or raw: convert it (vws image import converts vmdk, vdi, raw and qcow2), then upload: ${after}`);
  }
  const problem = notSelfContained(info);
  if (problem) throw new ApiError('invalid-image-content', `${problem}: ${after}`);
  if (declared !== undefined && declared !== format) {
    throw new ApiError('invalid-image-content', `the content is ${format}, but the image's description says ${declared}: upload ${declared} content, or change the description's format (PATCH /v1/images/{name}): ${after}`);
  }
  return format;
}

/** The description with the stored content's format, which a description may not contradict. */
export function withFormat(d: ImageDescription | null, format: ImageFormat): ImageDescription {
  return { ...(d ?? {}), format };
}

/**
 * Refuses a VM shape below the image's minimum, naming the image, its minimum and what to ask for
 * instead, at `path` (the lease's image field, or the role's).
 */
export function checkMinimum(image: ImageRow, perNode: Resources, path: string, what = 'each VM'): void {
  const why = belowMinimum(image, perNode, what);
  if (why) throw new ApiError('below-image-minimum', `${why}, or pick an image with a lower minimum (GET /v1/images?cpu=..&memoryMiB=..)`, { path });
}
