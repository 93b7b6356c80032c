// The lock that keeps two test files from building the same cached guest at once: holders never
// overlap, a waiter gets the lock once a live holder lets go, a lock left by a dead process is
// taken over, and the lock goes when the work fails.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withLock } from '../../guest/build-lock.ts';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vws-build-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('holders of one lock never overlap', async (t) => {
  const lock = join(scratch(t), 'g.lock');
  const log: string[] = [];
  const work = (name: string) => async () => {
    log.push(`${name} in`);
    for (let i = 0; i < 5; i++) await tick();
    log.push(`${name} out`);
    return name;
  };
  assert.deepEqual(await Promise.all([withLock(lock, work('a'), 5), withLock(lock, work('b'), 5), withLock(lock, work('c'), 5)]), ['a', 'b', 'c']);
  for (let i = 0; i < log.length; i += 2) assert.equal(log[i].split(' ')[0], log[i + 1].split(' ')[0], `no one entered while another held it: ${log.join(', ')}`);
  assert.equal(existsSync(lock), false);
});

test('a waiter gets the lock once a live holder in another process lets go', async (t) => {
  const lock = join(scratch(t), 'g.lock');
  const holder = spawn('sleep', ['30']);
  t.after(() => holder.kill('SIGKILL'));
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), String(holder.pid));
  let ran = false;
  const waiting = withLock(lock, async () => (ran = true), 5);
  for (let i = 0; i < 10; i++) await tick();
  assert.equal(ran, false, 'it waits while the holder lives');
  rmSync(lock, { recursive: true });
  await waiting;
  assert.equal(ran, true);
});

test('a lock left by a process that died is taken over', async (t) => {
  const lock = join(scratch(t), 'g.lock');
  const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), dead);
  assert.equal(await withLock(lock, async () => 'built', 5), 'built');
});

test('a lock without a pid, made over a minute ago, is taken over (its maker died before writing it)', async (t) => {
  const lock = join(scratch(t), 'g.lock');
  mkdirSync(lock);
  const old = new Date(Date.now() - 120_000);
  utimesSync(lock, old, old);
  assert.equal(await withLock(lock, async () => 'built', 5), 'built');
});

test('the lock goes when the work fails', async (t) => {
  const lock = join(scratch(t), 'g.lock');
  await assert.rejects(withLock(lock, async () => {
    throw new Error('mmdebstrap failed');
  }, 5), /mmdebstrap failed/);
  assert.equal(existsSync(lock), false);
});
