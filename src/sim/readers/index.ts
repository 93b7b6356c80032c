import type { LeaseRequest } from '../../core/types.ts';
import { parseInjectedArs, type InjectedArOptions } from './injected-ars.ts';
import { parseLwfXml, type LwfOptions } from './lwf-xml.ts';
import { parseSwf, type SwfHeader, type SwfOptions, type SwfSkipCounts } from './swf.ts';
import { readTraceText } from './text.ts';

export { TraceError } from './errors.ts';
export { readTraceText } from './text.ts';
export { parseSwf, type SwfHeader, type SwfOptions, type SwfSkipCounts, type SwfWorkload } from './swf.ts';
export { parseInjectedArs, type InjectedArOptions } from './injected-ars.ts';
export { parseLwfXml, type LwfOptions } from './lwf-xml.ts';

export type WorkloadFormat = 'swf' | 'ar-lines' | 'lwf-xml';

export type WorkloadOptions = SwfOptions & InjectedArOptions & LwfOptions;

export interface Workload {
  leases: LeaseRequest[];
  format: WorkloadFormat;
  /** SWF only: the jobs that did not become leases. */
  skipped?: SwfSkipCounts;
  /** SWF only: what the header comments say about the machine. */
  header?: SwfHeader;
}

/**
 * Reads a workload file of any supported format: SWF by its extension
 * (`.swf`, `.swf.gz`), otherwise LWF XML when the text starts with '<' and
 * the injected-AR line format when it does not. Gzip is undone whatever the
 * name.
 */
export function readWorkload(path: string, opts: WorkloadOptions = {}): Workload {
  const text = readTraceText(path);
  if (/\.swf(\.gz)?$/i.test(path)) {
    const { leases, skipped, header } = parseSwf(text, path, opts);
    return { leases, format: 'swf', skipped, header };
  }
  // The injected AR files are named .lwf although they are not XML.
  const firstVisible = text.search(/\S/);
  if (firstVisible >= 0 && text[firstVisible] === '<') {
    return { leases: parseLwfXml(text, path, opts), format: 'lwf-xml' };
  }
  return { leases: parseInjectedArs(text, path, opts), format: 'ar-lines' };
}
