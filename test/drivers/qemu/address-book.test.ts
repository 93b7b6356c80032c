// The VM network's address book: lowest free addresses for VMs, highest for node bridges, each
// change appended to a journal and folded into the snapshot when the book is opened again, so a
// VM keeps its address across restarts (and a line cut short by a crash is not an address).

import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AddressBook } from '../../../src/drivers/qemu/address-book.ts';

test('addresses are handed out lowest first, reused once released, and kept across reopening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-book-'));
  try {
    const file = join(dir, 'addresses.json');
    const book = new AddressBook('10.77.0.0/24', file);
    assert.deepEqual(['a', 'b', 'c'].map((v) => book.vm(v)), ['10.77.0.10', '10.77.0.11', '10.77.0.12']);
    assert.equal(book.node('n1'), '10.77.0.254');
    assert.equal(book.vm('a'), '10.77.0.10', 'asked again, the same');
    book.release('b');
    assert.equal(book.vm('d'), '10.77.0.11', 'the lowest free one');
    assert.equal(book.vm('e'), '10.77.0.13');
    assert.ok(existsSync(`${file}.journal`), 'changes are appended, not rewritten');
    appendFileSync(`${file}.journal`, '{"kind":"vms","key":"torn","addr');
    const again = new AddressBook('10.77.0.0/24', file);
    assert.deepEqual(['a', 'd', 'c', 'e'].map((v) => again.vm(v)), ['10.77.0.10', '10.77.0.11', '10.77.0.12', '10.77.0.13']);
    assert.equal(again.node('n1'), '10.77.0.254');
    assert.equal(again.node('n2'), '10.77.0.253');
    assert.equal(again.vm('torn'), '10.77.0.14', 'a torn line gave nothing');
    assert.ok(!JSON.parse(readFileSync(file, 'utf8')).vms.b, 'the snapshot holds what the journal said');
    assert.throws(() => new AddressBook('10.78.0.0/24', file), /hands out addresses of 10\.77\.0\.0\/24, not 10\.78\.0\.0\/24/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full network says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-book-'));
  try {
    const book = new AddressBook('10.77.0.0/28', join(dir, 'b.json'));
    // Hosts 10 to 14 of 16, the first ten left for the site.
    assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((v) => book.vm(v)), ['10.77.0.10', '10.77.0.11', '10.77.0.12', '10.77.0.13', '10.77.0.14']);
    assert.throws(() => book.vm('f'), /no address left for f: use a larger network/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
