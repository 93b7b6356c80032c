import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { newTicket, receiveFiles, sendFiles } from '../../src/agent/state-transfer.ts';

function dirs() {
  const root = mkdtempSync(join(tmpdir(), 'vws-transfer-'));
  const from = join(root, 'from');
  const to = join(root, 'to');
  mkdirSync(from);
  mkdirSync(to);
  return { root, from, to };
}

test('a suspended VM\'s files arrive whole, verified, under their own names', async () => {
  const { root, from, to } = dirs();
  try {
    const memory = randomBytes(5 * 1024 * 1024 + 17);
    writeFileSync(join(from, 'memory.state'), memory);
    writeFileSync(join(from, 'disk.qcow2'), 'overlay');
    writeFileSync(join(from, 'empty'), '');
    const ticket = newTicket();
    const landing = await receiveFiles({ address: '127.0.0.1', dir: to, ticket, timeoutMs: 30_000 });
    const sent = await sendFiles({ address: '127.0.0.1', port: landing.port, ticket }, ['memory.state', 'disk.qcow2', 'empty'].map((name) => ({ name, path: join(from, name) })));
    const got = await landing.done;
    assert.equal(sent.bytes, memory.length + 7);
    assert.equal(got.bytes, sent.bytes);
    assert.deepEqual(readFileSync(join(to, 'memory.state')), memory);
    assert.equal(readFileSync(join(to, 'disk.qcow2'), 'utf8'), 'overlay');
    assert.deepEqual(readdirSync(to).sort(), ['disk.qcow2', 'empty', 'memory.state']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a sender without the ticket is turned away, and the real sender still gets through', async () => {
  const { root, from, to } = dirs();
  try {
    writeFileSync(join(from, 'm'), 'state');
    const ticket = newTicket();
    const landing = await receiveFiles({ address: '127.0.0.1', dir: to, ticket, timeoutMs: 30_000 });
    await assert.rejects(sendFiles({ address: '127.0.0.1', port: landing.port, ticket: 'guess' }, [{ name: 'm', path: join(from, 'm') }]), /refused the files: wrong ticket/);
    await sendFiles({ address: '127.0.0.1', port: landing.port, ticket }, [{ name: 'm', path: join(from, 'm') }]);
    assert.equal((await landing.done).bytes, 5);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a file damaged on the way is not kept, and nothing partial is left', async () => {
  const { root, to } = dirs();
  try {
    const ticket = newTicket();
    const landing = await receiveFiles({ address: '127.0.0.1', dir: to, ticket, timeoutMs: 30_000 });
    const socket = connect(landing.port, '127.0.0.1');
    socket.write(`${JSON.stringify({ ticket, files: [{ name: 'memory.state', bytes: 4 }] })}\nabcd${'0'.repeat(64)}\n`);
    await assert.rejects(landing.done, /memory.state arrived with sha256 88d4266f.*not the sender's 0{64}: it was damaged on the way/);
    socket.destroy();
    assert.deepEqual(readdirSync(to), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a receiver that nobody sends to gives up at its deadline', async () => {
  const { root, to } = dirs();
  try {
    const landing = await receiveFiles({ address: '127.0.0.1', dir: to, ticket: newTicket(), timeoutMs: 50 });
    await assert.rejects(landing.done, /no sender brought the files within 50 ms/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a receiving directory that disappears fails the transfer on both sides, and the receiver lives on', async () => {
  const { root, from, to } = dirs();
  try {
    writeFileSync(join(from, 'memory.state'), randomBytes(1024 * 1024));
    const ticket = newTicket();
    // Removed before anything arrives: the agent abandoning a migration does the same.
    rmSync(to, { recursive: true });
    const landing = await receiveFiles({ address: '127.0.0.1', dir: to, ticket, timeoutMs: 30_000 });
    await assert.rejects(sendFiles({ address: '127.0.0.1', port: landing.port, ticket }, [{ name: 'memory.state', path: join(from, 'memory.state') }]), /refused the files: cannot write memory.state here: ENOENT/);
    await assert.rejects(landing.done, /cannot write memory.state here/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
