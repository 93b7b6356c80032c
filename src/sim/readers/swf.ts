import type { LeaseRequest, Resources } from '../../core/types.ts';
import { TraceError } from './errors.ts';

export interface SwfOptions {
  /** What each node of a job gets; the study gave every node 1 CPU and 1024 MB. */
  perNode?: Resources;
}

/** Jobs left out, each counted under the first rule that excluded it. */
export interface SwfSkipCounts {
  /** Run time < 0: cancelled while queued (status 5) or otherwise never ran. */
  cancelledWhileQueued: number;
  /** Requested time (field 9) <= 0 or not recorded. */
  noRequestedTime: number;
  /** Neither requested (field 8) nor allocated (field 5) processors recorded. */
  noProcessors: number;
}

export interface SwfHeader {
  maxNodes?: number;
  maxProcs?: number;
}

export interface SwfWorkload {
  leases: LeaseRequest[];
  skipped: SwfSkipCounts;
  header: SwfHeader;
}

const FIELD_COUNT = 18;

const FIELD_NAMES = [
  'job number', 'submit time', 'wait time', 'run time', 'allocated processors',
  'average CPU time', 'used memory', 'requested processors', 'requested time',
  'requested memory', 'status', 'user', 'group', 'executable', 'queue',
  'partition', 'preceding job', 'think time',
];

// 0-based positions of the fields a lease is made from.
const JOB = 0;
const SUBMIT = 1;
const RUN = 3;
const ALLOCATED_PROCS = 4;
const REQUESTED_PROCS = 7;
const REQUESTED_TIME = 8;

// Fields that become ids, times or counts must be whole; the others may be
// fractional (average CPU time, memory) and are only checked to be numbers.
const WHOLE_NUMBER_FIELDS = [JOB, SUBMIT, RUN, ALLOCATED_PROCS, REQUESTED_PROCS, REQUESTED_TIME];

const DEFAULT_PER_NODE: Resources = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 11 || code === 12;
}

// One pass over the line's characters with numbers built in place: on the
// 243,306-line archive log, splitting lines on a regex alone costs more than
// this whole scan. A malformed token becomes NaN; the count returned may
// exceed `fields.length` so the error can say how many fields there were.
function scanFields(text: string, start: number, end: number, fields: Float64Array): number {
  let count = 0;
  let i = start;
  while (i < end) {
    let code = text.charCodeAt(i);
    if (isBlank(code)) { i++; continue; }
    let sign = 1;
    if (code === 45 /* - */ || code === 43 /* + */) {
      if (code === 45) sign = -1;
      i++;
    }
    let whole = 0;
    let fraction = 0;
    let fractionScale = 1;
    let digits = 0;
    let seenPoint = false;
    let wellFormed = true;
    for (; i < end; i++) {
      code = text.charCodeAt(i);
      if (code >= 48 && code <= 57) {
        if (seenPoint) {
          fraction = fraction * 10 + (code - 48);
          fractionScale *= 10;
        } else {
          whole = whole * 10 + (code - 48);
        }
        digits++;
      } else if (code === 46 /* . */ && !seenPoint) {
        seenPoint = true;
      } else if (isBlank(code)) {
        break;
      } else {
        wellFormed = false;
      }
    }
    if (count < fields.length) {
      fields[count] = wellFormed && digits > 0 ? sign * (whole + fraction / fractionScale) : NaN;
    }
    count++;
  }
  return count;
}

function tokensOf(line: string): string[] {
  return line.trim().split(/\s+/);
}

function checkFields(text: string, lineStart: number, lineEnd: number, count: number,
  fields: Float64Array, file: string, lineNumber: number): void {
  if (count !== FIELD_COUNT) {
    throw new TraceError(file, lineNumber,
      `expected ${FIELD_COUNT} whitespace-separated SWF fields, found ${count}`, 'fix or delete the line');
  }
  for (let index = 0; index < FIELD_COUNT; index++) {
    if (Number.isNaN(fields[index])) {
      const token = tokensOf(text.slice(lineStart, lineEnd))[index];
      throw new TraceError(file, lineNumber,
        `field ${index + 1} (${FIELD_NAMES[index]}) is not a number: "${token}"`,
        'SWF fields are numbers, -1 when unknown; fix or delete the line');
    }
  }
  for (const index of WHOLE_NUMBER_FIELDS) {
    if (!Number.isInteger(fields[index])) {
      throw new TraceError(file, lineNumber,
        `field ${index + 1} (${FIELD_NAMES[index]}) must be a whole number, found ${fields[index]}`,
        'fix or delete the line');
    }
  }
  if (fields[SUBMIT] < 0) {
    throw new TraceError(file, lineNumber, `submit time (field 2) is negative: ${fields[SUBMIT]}`,
      'SWF submit times count seconds from the start of the log; fix or delete the line');
  }
}

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads `; MaxNodes: N` or `; MaxProcs: N` from the comment line at [start, end), in place: a
 * regex run on a slice of the text would keep the whole text (22 MB for the SDSC log) alive for
 * the rest of the run, as the subject of the last match.
 */
function readHeaderLine(text: string, start: number, end: number, header: SwfHeader): void {
  let i = skipBlanks(text, start + 1, end);
  const key = text.startsWith('MaxNodes', i) ? 'maxNodes' : text.startsWith('MaxProcs', i) ? 'maxProcs' : null;
  if (key === null) return;
  i = skipBlanks(text, i + 'MaxNodes'.length, end);
  if (text.charCodeAt(i) !== 58 /* : */) return;
  i = skipBlanks(text, i + 1, end);
  let value = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) break;
    value = value * 10 + (code - 48);
  }
  if (digits > 0) header[key] = value;
}

/**
 * A whole number as V8 stores it unboxed (a small integer): read from a Float64Array it would be
 * a heap number, and the lease's copies of it (its queue time, its segments' times) with it.
 */
function compact(x: number): number {
  return x === (x | 0) ? x | 0 : x;
}

/**
 * Leases from a Standard Workload Format log, following the conventions of
 * the traces README: best-effort, preemptible, planned for the requested
 * time and really ending after the run time (at least 1 s, at most the
 * requested time). Leases come in arrival order, ties in file order.
 */
export function parseSwf(text: string, file: string, opts: SwfOptions = {}): SwfWorkload {
  const given = opts.perNode ?? DEFAULT_PER_NODE;
  // One frozen copy shared by every lease of the file: no consumer can change it for all of them,
  // and a whole log (232,562 leases) does not hold as many copies.
  const perNode = Object.freeze({ cpu: given.cpu, memoryMiB: given.memoryMiB, diskMiB: given.diskMiB });
  const leases: LeaseRequest[] = [];
  const skipped: SwfSkipCounts = { cancelledWhileQueued: 0, noRequestedTime: 0, noProcessors: 0 };
  const header: SwfHeader = {};
  const fields = new Float64Array(FIELD_COUNT);
  let inArrivalOrder = true;
  let lastArrival = -Infinity;
  let lineNumber = 0;

  for (let lineStart = 0; lineStart < text.length; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const contentStart = lineStart;
    lineStart = lineEnd + 1;
    lineNumber++;

    let first = contentStart;
    while (first < lineEnd && isBlank(text.charCodeAt(first))) first++;
    if (first === lineEnd) continue;
    if (text.charCodeAt(first) === 59 /* ; */) {
      readHeaderLine(text, first, lineEnd, header);
      continue;
    }

    const count = scanFields(text, first, lineEnd, fields);
    checkFields(text, first, lineEnd, count, fields, file, lineNumber);

    const runTime = fields[RUN];
    if (runTime < 0) { skipped.cancelledWhileQueued++; continue; }
    const requestedTime = fields[REQUESTED_TIME];
    if (requestedTime <= 0) { skipped.noRequestedTime++; continue; }
    // SWF writes -1 for "not recorded"; some logs only record the allocation.
    const requestedProcs = fields[REQUESTED_PROCS];
    const allocatedProcs = fields[ALLOCATED_PROCS];
    const nodes = requestedProcs > 0 ? requestedProcs : allocatedProcs > 0 ? allocatedProcs : 0;
    if (nodes === 0) { skipped.noProcessors++; continue; }

    const arrival = fields[SUBMIT];
    if (arrival < lastArrival) inArrivalOrder = false;
    lastArrival = arrival;
    leases.push({
      id: String(fields[JOB]),
      kind: 'best-effort',
      arrival: compact(arrival),
      requestedStart: null,
      duration: compact(requestedTime),
      realDuration: compact(Math.min(Math.max(runTime, 1), requestedTime)),
      nodes: compact(nodes),
      perNode,
      preemptible: true,
    });
  }

  if (!inArrivalOrder) leases.sort((a, b) => a.arrival - b.arrival);
  return { leases, skipped, header };
}
