import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { TraceError } from './errors.ts';

// Sniffed rather than trusted from the extension: archive logs get renamed.
function startsWithGzipMagic(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

// The default 16 KiB output chunks make a one-off gunzip of the 22 MB
// archive log about twice as slow as 1 MiB chunks do.
const GUNZIP_CHUNK_BYTES = 1024 * 1024;

/** The text of a trace file, gunzipped if it is gzip data. */
export function readTraceText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new TraceError(path, null, `trace file not found: ${path}`,
        `check the path (relative paths start from ${process.cwd()})`);
    }
    throw new TraceError(path, null, `cannot read the trace file (${code ?? (err as Error).message})`,
      'check that the path names a readable file');
  }
  if (startsWithGzipMagic(bytes)) {
    try {
      bytes = gunzipSync(bytes, { chunkSize: GUNZIP_CHUNK_BYTES });
    } catch (err) {
      throw new TraceError(path, null, `starts like gzip data but does not decompress (${(err as Error).message})`,
        'replace it with an intact copy');
    }
  }
  const text = bytes.toString('utf8');
  // A byte-order mark would hide the leading '<' that identifies LWF XML.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
