import type { LeaseRequest } from '../../core/types.ts';
import { TraceError } from './errors.ts';

export interface InjectedArOptions {
  /**
   * Keep an AR whose start precedes its arrival (it asks for the past)
   * instead of rejecting the file. Two of the shared injected workloads
   * contain such ARs; a simulator can keep them to turn them down itself.
   */
  allowStartBeforeArrival?: boolean;
}

const FIELD_NAMES = [
  'arrival', 'start', 'duration', 'realduration', 'numnodes', 'cpu', 'mem', 'disk', 'image', 'imagesize',
];

const FORMAT_HINT = `each line is: ${FIELD_NAMES.join(' ')}`;

const WHOLE_NUMBER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

// Splits on blanks, keeping a single-quoted image name whole even if it
// holds blanks. Returns null when a quote is left open.
function splitFields(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i])) { i++; continue; }
    const start = i;
    if (line[i] === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return null;
      i = close + 1;
    }
    while (i < line.length && !/\s/.test(line[i])) i++;
    fields.push(line.slice(start, i));
  }
  return fields;
}

function unquote(field: string): string {
  return field.length >= 2 && field.startsWith("'") && field.endsWith("'") ? field.slice(1, -1) : field;
}

function parseArLine(line: string, file: string, lineNumber: number, opts: InjectedArOptions): LeaseRequest {
  const error = (problem: string, remedy = 'fix the line') => new TraceError(file, lineNumber, problem, remedy);

  const fields = splitFields(line);
  if (fields === null) throw error('the image name opens a quote that is never closed', 'close the quote');
  if (fields.length !== FIELD_NAMES.length) {
    throw error(`expected ${FIELD_NAMES.length} whitespace-separated AR fields, found ${fields.length}`,
      `${FORMAT_HINT}; fix or delete the line`);
  }
  const wholeNumber = (position: number): number => {
    if (!WHOLE_NUMBER.test(fields[position])) {
      throw error(`${FIELD_NAMES[position]} must be a whole number, found "${fields[position]}"`,
        `${FORMAT_HINT}; fix the line`);
    }
    return Number(fields[position]);
  };
  const arrival = wholeNumber(0);
  const start = wholeNumber(1);
  const duration = wholeNumber(2);
  const realDuration = wholeNumber(3);
  const nodes = wholeNumber(4);
  const memoryMiB = wholeNumber(6);
  const diskMiB = wholeNumber(7);
  const imageSizeMiB = wholeNumber(9);
  // CPUs per node may be a fraction of a core.
  if (!DECIMAL_NUMBER.test(fields[5])) {
    throw error(`cpu must be a number, found "${fields[5]}"`, `${FORMAT_HINT}; fix the line`);
  }
  const cpu = Number(fields[5]);
  const image = unquote(fields[8]);

  if (arrival < 0) {
    throw error(`arrival is negative (${arrival})`, 'times count seconds from the trace start; fix the line');
  }
  if (start < arrival && !opts.allowStartBeforeArrival) {
    throw error(`start ${start} is before arrival ${arrival}`,
      'an AR cannot be requested after it starts; fix the line, or read with allowStartBeforeArrival to keep it');
  }
  if (duration <= 0) throw error(`duration must be positive, found ${duration}`);
  if (realDuration <= 0) throw error(`realduration must be positive, found ${realDuration}`);
  if (nodes < 1) throw error(`numnodes must be at least 1, found ${nodes}`);
  if (cpu <= 0) throw error(`cpu must be positive, found ${fields[5]}`);
  if (memoryMiB < 0 || diskMiB < 0 || imageSizeMiB < 0) throw error('mem, disk and imagesize cannot be negative');
  if (image === '') throw error('the image name is empty', "name the image, e.g. 'NONE.img'");

  return {
    id: `ar-${lineNumber}`,
    kind: 'exact',
    arrival,
    requestedStart: start,
    duration,
    realDuration,
    nodes,
    perNode: { cpu, memoryMiB, diskMiB },
    image: { id: image, sizeMiB: imageSizeMiB },
    preemptible: false,
  };
}

/**
 * Advance reservations from the whitespace-separated format of the injected
 * workloads (`arrival start duration realduration numnodes cpu mem disk
 * image imagesize`, times in seconds, sizes in MB). Leases come in arrival
 * order, ties in file order; ids are `ar-LINE`.
 */
export function parseInjectedArs(text: string, file: string, opts: InjectedArOptions = {}): LeaseRequest[] {
  const leases: LeaseRequest[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    if (lines[index].trim() !== '') leases.push(parseArLine(lines[index], file, index + 1, opts));
  }
  // Stable: ARs that arrive together keep their file order.
  return leases.sort((a, b) => a.arrival - b.arrival);
}
