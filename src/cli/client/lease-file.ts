// `vws lease create -f cluster.yaml`: a lease body from a YAML or JSON file (JSON is YAML), with
// the same fields as the API's. The server checks the body; when it refuses a field, the answer's
// path (body.roles.1.count) is turned back into the file's line, so a person sees where to look.

import { readFileSync, statSync } from 'node:fs';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { ClientError } from './errors.ts';

/** What the server takes in one body; a larger file cannot be a lease. */
const LARGEST_FILE = 1024 * 1024;

export interface LeaseFile {
  path: string;
  body: Record<string, unknown>;
  /** The file line of a field given as the API's path without its leading `body.` (roles.1.count), or null. */
  lineOf(fieldPath: readonly string[]): number | null;
}

export function readLeaseFile(path: string): LeaseFile {
  let text: string;
  try {
    if (statSync(path).size > LARGEST_FILE) throw new ClientError(`${path}: larger than ${LARGEST_FILE} bytes; a lease file is a few lines`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ClientError) throw e;
    throw new ClientError(`${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is a mistake, not "the last one wins".
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const bad = doc.errors[0];
  if (bad) {
    const at = lines.linePos(bad.pos[0]);
    throw new ClientError(`${path} line ${at.line}, column ${at.col}: ${bad.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) throw new ClientError(`${path}: must hold one mapping of lease fields (kind, duration, roles, ...), as the API's body`);
  // Aliases are few in a lease; a file of nested aliases must not expand into gigabytes.
  let body: Record<string, unknown>;
  try {
    body = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (e) {
    throw new ClientError(`${path}: ${(e as Error).message}`);
  }
  return { path, body, lineOf: (fieldPath) => lineOf(doc, lines, fieldPath) };
}

/** The line of the deepest node along the path that the file has (a missing field: its parent's). */
function lineOf(doc: Document, lines: LineCounter, fieldPath: readonly string[]): number | null {
  for (let depth = fieldPath.length; depth > 0; depth--) {
    const keys = fieldPath.slice(0, depth).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const last = keys[keys.length - 1];
    const parent = depth === 1 ? doc.contents : doc.getIn(keys.slice(0, -1), true);
    // The key's own line for a mapping entry (a value may start on the next line); the item's for a list.
    const pair = isMap(parent) ? parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last) : undefined;
    const node = (pair?.key ?? doc.getIn(keys, true)) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}

/** " (FILE line N: roles[1].count)" for a refusal's path, or '' when the path is not the file's. */
export function whereInFile(file: LeaseFile, apiPath: string | undefined, prefix: string, fromFlags: ReadonlySet<string>): string {
  if (apiPath === undefined || !apiPath.startsWith(prefix)) return '';
  const field = apiPath === prefix ? [] : apiPath.slice(prefix.length + 1).split('.');
  if (field.length > 0 && fromFlags.has(field[0])) return '';
  const line = field.length > 0 ? file.lineOf(field) : null;
  const name = field.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join('').replace(/^\./, '');
  return `${file.path}${line !== null ? ` line ${line}` : ''}${name ? `: ${name}` : ''}`;
}
