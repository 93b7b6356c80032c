import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readWorkload, TraceError } from './index.ts';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const traces = fileURLToPath(new URL('../../../../shared/traces/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'vws-workload-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('blue/30days.swf reads as SWF: 5,108 leases, 437 skipped', () => {
  const workload = readWorkload(`${traces}blue/30days.swf`);
  assert.equal(workload.format, 'swf');
  assert.equal(workload.leases.length, 5108);
  assert.deepEqual(workload.skipped, { cancelledWhileQueued: 437, noRequestedTime: 0, noProcessors: 0 });
});

test('the gzip archive log reads as SWF by its .swf.gz name', () => {
  const workload = readWorkload(`${traces}archive/KTH-SP2-1996-2.1-cln.swf.gz`);
  assert.equal(workload.format, 'swf');
  assert.ok(workload.leases.length > 0);
  assert.equal(workload.header?.maxNodes, 100);
});

test('SWF options reach the SWF parser', () => {
  const perNode = { cpu: 8, memoryMiB: 8192, diskMiB: 0 };
  const { leases } = readWorkload(`${fixtures}small.swf`, { perNode });
  assert.deepEqual(leases[0].perNode, perNode);
});

test('an injected .lwf file, not XML despite its name, reads as AR lines', () => {
  const workload = readWorkload(`${traces}blue/injected-30days/work_20-dur_3h-size_2medium.lwf`);
  assert.equal(workload.format, 'ar-lines');
  assert.ok(workload.leases.length > 0);
  assert.equal(workload.skipped, undefined);
  assert.ok(workload.leases.every((lease) => lease.kind === 'exact' && lease.id.startsWith('ar-')));
});

test('an injected workload with ARs in the past needs allowStartBeforeArrival', () => {
  const path = `${traces}blue/injected-30days/work_25-dur_1h-size_1small.lwf`;
  assert.throws(() => readWorkload(path), (error: unknown) => error instanceof TraceError && error.line === 2);
  assert.ok(readWorkload(path, { allowStartBeforeArrival: true }).leases.length > 0);
});

test('sample.lwf reads as LWF XML with no leases', () => {
  assert.deepEqual(readWorkload(`${traces}sample.lwf`), { leases: [], format: 'lwf-xml' });
});

test('the format is sniffed after gunzip when the name does not say SWF', () => {
  const xml = join(scratch, 'workload.xml.gz');
  writeFileSync(xml, gzipSync(readFileSync(`${fixtures}small-xml.lwf`)));
  assert.equal(readWorkload(xml).format, 'lwf-xml');
  assert.equal(readWorkload(xml).leases.length, 4);

  const ars = join(scratch, 'ars.gz');
  writeFileSync(ars, gzipSync(readFileSync(`${fixtures}ars.lwf`)));
  assert.equal(readWorkload(ars).format, 'ar-lines');

  const swf = join(scratch, 'SMALL.SWF.GZ');
  writeFileSync(swf, gzipSync(readFileSync(`${fixtures}small.swf`)));
  assert.equal(readWorkload(swf).leases.length, 5);

  // Leading blank lines do not hide the '<'.
  const padded = join(scratch, 'padded.lwf');
  writeFileSync(padded, `\n\n  ${readFileSync(`${fixtures}small-xml.lwf`, 'utf8')}`);
  assert.equal(readWorkload(padded).format, 'lwf-xml');
});

test('errors name the path as given', () => {
  const copy = join(scratch, 'seven-fields.swf');
  copyFileSync(`${fixtures}seven-fields.swf`, copy);
  assert.throws(() => readWorkload(copy), (error: unknown) =>
    error instanceof TraceError && error.file === copy && error.line === 4 && error.message.startsWith(`${copy}:4: `));
  const missing = join(scratch, 'missing.swf');
  assert.throws(() => readWorkload(missing), (error: unknown) =>
    error instanceof TraceError && error.file === missing && error.line === null && error.message.includes('not found'));
});
