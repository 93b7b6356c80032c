// An image's description from the command line (image add, import and describe take the same
// options), and shown back as text. The server checks it strictly; here only what a shell cannot
// say as JSON is turned into the API's fields: numbers, and comma-separated or repeated lists.

import type { ImageDescription, ImageRow } from '../../store/store.ts';
import { UsageError } from '../usage-error.ts';
import type { Args } from './args.ts';
import { integerOption, positiveNumberOption } from './args.ts';
import { fields, orDash, when } from './tables.ts';

/** Comma-separated or repeated: `--provides ssh,nfs-server --provides http`. */
const names = (args: Args, option: string): string[] | undefined => {
  const all = args.list(option).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return all.length > 0 ? all : undefined;
};

/** The description the options give (fields not given are left out); undefined if none is given. */
export function descriptionOf(args: Args): ImageDescription | undefined {
  const d: ImageDescription = {};
  const version = args.string('image-version');
  if (version !== undefined) d.version = version;
  const [family, release] = [args.string('os'), args.string('os-release')];
  if (release !== undefined && family === undefined) throw new UsageError('--os-release goes with --os FAMILY (e.g. --os debian --os-release 12)');
  if (family !== undefined) d.os = { family, ...(release !== undefined ? { release } : {}) };
  const maintainer = args.string('maintainer');
  if (maintainer !== undefined) d.maintainer = maintainer;
  const summary = args.string('summary');
  if (summary !== undefined) d.summary = summary;
  const [cpu, memory, disk] = [args.string('min-cpu'), args.string('min-memory'), args.string('min-disk')];
  if (cpu !== undefined || memory !== undefined || disk !== undefined) {
    d.minimum = {
      ...(cpu !== undefined ? { cpu: positiveNumberOption('min-cpu', cpu) } : {}),
      ...(memory !== undefined ? { memoryMiB: integerOption('min-memory', memory, 1) } : {}),
      ...(disk !== undefined ? { diskMiB: integerOption('min-disk', disk, 0) } : {}),
    };
  }
  const provides = names(args, 'provides');
  if (provides) d.provides = provides;
  const requires = names(args, 'requires');
  if (requires) d.requires = requires;
  const format = args.string('format');
  if (format === 'qcow2' || format === 'raw') d.format = format;
  return Object.keys(d).length > 0 ? d : undefined;
}

export const osText = (d: ImageDescription | null): string => (d?.os ? `${d.os.family}${d.os.release ? ` ${d.os.release}` : ''}` : '-');

export function minimumText(d: ImageDescription | null): string {
  const m = d?.minimum;
  if (!m) return '-';
  const parts = [m.cpu !== undefined ? `${m.cpu} cpu` : null, m.memoryMiB !== undefined ? `${m.memoryMiB} MiB` : null, m.diskMiB !== undefined ? `${m.diskMiB} MiB disk` : null];
  return parts.filter(Boolean).join(', ') || '-';
}

const list = (xs: string[] | undefined): string => (xs && xs.length > 0 ? xs.join(',') : '-');

/** One image in full, for `vws image show`. */
export function imageText(i: ImageRow): string {
  const d = i.description;
  return fields([
    ['name', i.name], ['version', orDash(d?.version)], ['os', osText(d)], ['format', orDash(d?.format)],
    ['maintainer', orDash(d?.maintainer)], ['summary', orDash(d?.summary)], ['minimum', minimumText(d)],
    ['provides', list(d?.provides)], ['requires', list(d?.requires)],
    ['size', `${i.sizeMiB} MiB`], ['sha256', i.sha256], ['owner', i.owner],
    ['visibility', i.visibility === 'group' ? `group ${i.group}` : i.visibility], ['uploaded', i.uploaded ? 'yes' : 'no'],
    ...(i.boot ? [['boot', `kernel ${i.boot.kernel}, initrd ${i.boot.initrd}, cmdline '${i.boot.cmdline}'`] as [string, string]] : []),
    ['created', when(i.createdAt)],
  ]);
}

/** The catalogue's columns, for `vws image list`. */
export const LIST_HEAD = ['NAME', 'VERSION', 'OS', 'FORMAT', 'SIZE MiB', 'MINIMUM', 'PROVIDES', 'OWNER', 'VISIBILITY', 'UPLOADED'];

export const listRow = (i: ImageRow): string[] => [
  i.name, orDash(i.description?.version), osText(i.description), orDash(i.description?.format), String(i.sizeMiB), minimumText(i.description),
  list(i.description?.provides), i.owner, i.visibility === 'group' ? `group ${i.group}` : i.visibility, i.uploaded ? 'yes' : 'no',
];
