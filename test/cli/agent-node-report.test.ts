// vws agent refuses, before it dials, a node the service would refuse at hello (issue 14,
// finding 3): the operator reads the field at fault at once, instead of an agent redialling a
// service that refuses it each time.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentCommand } from '../../src/cli/agent-command.ts';
import { UsageError } from '../../src/cli/usage-error.ts';

test('vws agent with a node name or size the service would refuse stops with the field at fault', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-agent-report-'));
  try {
    const base = { server: 'http://127.0.0.1:9', token: 't', data: join(dir, 'data'), cpu: '2', memory: '1024', disk: '1024' };
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ name: '../../x' }, /^node\.name must be 1 to 63 letters, digits, "\.", "_" or "-", starting with a letter or digit, got "\.\.\/\.\.\/x".*\(--name, --cpu/],
      [{ name: 'n1', cpu: '2000' }, /^node\.cpu must be <= 1024, got 2000/],
      [{ name: 'n1', 'transfer-address': 'host name with spaces' }, /^node\.transferAddress must be a host name or an IP address/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(agentCommand({ ...base, ...options }), (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.match((e as Error).message, message);
        return true;
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
