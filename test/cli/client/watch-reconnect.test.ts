// `vws lease watch` across a server crash: it reconnects with Last-Event-ID and neither loses
// nor repeats an event.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BOOTSTRAP_TOKEN, freePort, lineMatching, type RealServer, startServer, vws, vwsBackground } from './real-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'vws-watch-'));
let server: RealServer | undefined;
let watch: ReturnType<typeof vwsBackground> | undefined;

after(async () => {
  watch?.kill('SIGKILL');
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('lease watch resumes after the server is killed and restarted, without repeating events', { timeout: 300_000 }, async () => {
  const data = join(dir, 'data');
  const config = join(dir, 'config.json');
  server = await startServer(data, await freePort());
  assert.equal(vws(config, 'login', '--server', server.url, '--token', BOOTSTRAP_TOKEN).status, 0);
  const spec = ['--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '1024', '--duration', '3h', '--json'];
  const id = JSON.parse(vws(config, 'lease', 'create', ...spec).stdout).lease.id;

  watch = vwsBackground(config, 'lease', 'watch', id, '--json');
  await lineMatching(watch, /"type":"lease.status"/);
  const before = watch.lines.length;

  await server.kill();
  server = await startServer(data, server.port);
  // Another lease's events pass while the watch is away or reconnecting; they must not show.
  assert.equal(vws(config, 'lease', 'create', ...spec).status, 0);
  const cancel = vws(config, 'lease', 'cancel', id);
  assert.equal(cancel.status, 0, cancel.stderr);

  assert.equal(await watch.exit, 0, watch.stderrText());
  assert.match(watch.stderrText(), /^vws: event stream lost \(.*\); resuming after event \d+$/m);
  const events = watch.lines.map((l) => JSON.parse(l) as { id: number; type: string; data: { leaseId: string; to?: string } });
  assert.ok(events.length > before, 'events arrived after the restart');
  assert.ok(events.every((e) => e.data.leaseId === id));
  assert.deepEqual(events.map((e) => e.id), [...new Set(events.map((e) => e.id))].sort((a, b) => a - b), 'each event once, in order');
  assert.equal(events.at(-1)!.data.to, 'cancelled');
});
