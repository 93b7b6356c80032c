// A terms document (docs/terms.md) read from a file for `vws serve --terms` and `vws sim --terms`:
// one reader, so that a site simulates exactly what it runs. What is wrong is named by file and path.

import { readFileSync } from 'node:fs';
import { readTerms } from '../core/terms-document.ts';
import type { Terms } from '../core/terms.ts';
import { UsageError } from './usage-error.ts';

export function readTermsFile(file: string): Terms {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--terms ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--terms ${file}: not JSON (${(e as Error).message}): a terms document is a JSON object, see docs/terms.md`);
  }
  const read = readTerms(doc);
  if (!read.ok) throw new UsageError(`--terms ${file}: ${read.path}: ${read.message}`);
  return read.terms;
}
