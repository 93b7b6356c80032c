// An image's description (the appliance catalogue's entry) and the catalogue's filters. Strict:
// bounded strings of printable text, short names for what an image provides and requires, the two
// formats the server stores, and finite, bounded minimum resources.

import { Type } from '@sinclair/typebox';
import { MOST_CPUS, MOST_DISK_MIB, MOST_MEMORY_MIB } from './limits.ts';

const strict = { additionalProperties: false } as const;

/** Printable text on one line: no control characters (a summary is shown in tables). */
const LINE = '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$';
/** An OS family or a contextualization capability: a short lower-case name, as in the catalogue's filters. */
export const SHORT_NAME = '^[a-z0-9][a-z0-9._+-]{0,31}$';
export const FORMATS = ['qcow2', 'raw'] as const;

const Text = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, pattern: LINE, description });
const Names = (description: string) => Type.Array(Type.String({ pattern: SHORT_NAME }), { maxItems: 32, uniqueItems: true, description });

export const ImageFormat = Type.Union(FORMATS.map((f) => Type.Literal(f)), {
  description: 'how the content is stored: qcow2 or raw (convert others with vws image import). The server checks uploaded content is of this format; if not given, the upload sets it',
});

export const ImageMinimum = Type.Object({
  cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MOST_CPUS, description: 'CPUs each VM needs at least (may be fractional)' })),
  memoryMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_MEMORY_MIB, description: 'memory each VM needs at least' })),
  diskMiB: Type.Optional(Type.Integer({ minimum: 0, maximum: MOST_DISK_MIB, description: 'disk the guest needs to work in (for people: a lease\'s disk is scratch space beside the image)' })),
}, { ...strict, description: 'the least a VM booting the image needs: a lease asking for less cpu or memory per VM is refused (below-image-minimum)' });

export const ImageDescription = Type.Object({
  version: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+~:-]{0,63}$', description: 'the appliance\'s version, e.g. 12.7-20261201' })),
  os: Type.Optional(Type.Object({
    family: Type.String({ pattern: SHORT_NAME, description: 'e.g. debian, ubuntu, rocky, alpine' }),
    release: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$', description: 'e.g. 12, 24.04' })),
  }, strict)),
  maintainer: Type.Optional(Text(128, 'who maintains it, e.g. a name and an address')),
  summary: Type.Optional(Text(1024, 'what it is for, in a sentence or two')),
  minimum: Type.Optional(ImageMinimum),
  provides: Type.Optional(Names('what it offers for contextualization, e.g. ssh, nfs-server')),
  requires: Type.Optional(Names('what it needs from contextualization, e.g. cloud-init, nocloud')),
  format: Type.Optional(ImageFormat),
}, { ...strict, description: 'what the image is and needs (its catalogue entry): every field optional' });

/** GET /v1/images' filters: each narrows the list; an image without the field described does not match. */
export const ImageQuery = Type.Object({
  os: Type.Optional(Type.String({ pattern: SHORT_NAME, description: 'only images of this OS family' })),
  release: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$', description: 'only images of this OS release' })),
  provides: Type.Optional(Type.String({ pattern: SHORT_NAME, description: 'only images that provide this' })),
  requires: Type.Optional(Type.String({ pattern: SHORT_NAME, description: 'only images that require this' })),
  format: Type.Optional(ImageFormat),
  owner: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only images of this user' })),
  maintainer: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: LINE, description: 'only images whose maintainer contains this (case-insensitive)' })),
  cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MOST_CPUS, description: 'only images a VM of this many CPUs may boot (their minimum cpu is at most this)' })),
  memoryMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_MEMORY_MIB, description: 'only images a VM of this much memory may boot' })),
}, strict);
