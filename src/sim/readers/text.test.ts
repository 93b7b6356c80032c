import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TraceError } from './errors.ts';
import { readTraceText } from './text.ts';

const scratch = mkdtempSync(join(tmpdir(), 'vws-readers-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('TraceError says FILE:LINE: problem; remedy, or FILE: when no line is to blame', () => {
  const onLine = new TraceError('30days.swf', 17, 'expected 18 whitespace-separated SWF fields, found 7', 'fix or delete the line');
  assert.equal(onLine.message, '30days.swf:17: expected 18 whitespace-separated SWF fields, found 7; fix or delete the line');
  assert.equal(onLine.file, '30days.swf');
  assert.equal(onLine.line, 17);
  assert.equal(onLine.name, 'TraceError');
  assert.ok(onLine instanceof Error);
  const wholeFile = new TraceError('a.lwf', null, 'no XML element found', 'is this the right file?');
  assert.equal(wholeFile.message, 'a.lwf: no XML element found; is this the right file?');
});

test('plain text comes back as is', () => {
  const path = join(scratch, 'plain.txt');
  writeFileSync(path, 'one\ntwo\n');
  assert.equal(readTraceText(path), 'one\ntwo\n');
});

test('gzip data is gunzipped whatever the file is called', () => {
  const path = join(scratch, 'looks-plain.txt');
  writeFileSync(path, gzipSync('zipped\ntext\n'));
  assert.equal(readTraceText(path), 'zipped\ntext\n');
});

test('a leading byte-order mark is dropped', () => {
  const path = join(scratch, 'bom.lwf');
  writeFileSync(path, '\ufeff<lease-workload/>');
  assert.equal(readTraceText(path), '<lease-workload/>');
});

test('a missing file is a TraceError naming the path', () => {
  const path = join(scratch, 'no-such-trace.swf');
  assert.throws(() => readTraceText(path), (error: unknown) => {
    assert.ok(error instanceof TraceError);
    assert.equal(error.file, path);
    assert.equal(error.line, null);
    assert.ok(error.message.startsWith(`${path}: trace file not found: ${path}; check the path`), error.message);
    return true;
  });
});

test('a directory or a damaged gzip file is a TraceError too', () => {
  assert.throws(() => readTraceText(scratch), (error: unknown) =>
    error instanceof TraceError && error.message.includes('cannot read the trace file (EISDIR)'));
  const path = join(scratch, 'damaged.swf.gz');
  writeFileSync(path, gzipSync('x'.repeat(1000)).subarray(0, 20));
  assert.throws(() => readTraceText(path), (error: unknown) =>
    error instanceof TraceError && error.file === path && error.message.includes('does not decompress'));
});
