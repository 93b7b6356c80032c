// `vws serve --tls-cert --tls-key` serves HTTPS; tokens then never cross the wire in clear.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { waitFor } from '../support/wait.ts';

const root = new URL('../../', import.meta.url).pathname;


function get(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // The certificate is self-signed for the test: trust is not what is under test here, encryption is.
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('vws serve with --tls-cert and --tls-key answers over HTTPS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const port = await freePort();
  const proc = spawn(process.execPath, ['bin/vws.js', 'serve', '--data', join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--tls-cert', cert, '--tls-key', key], { cwd: root, env: { ...process.env, VWS_BOOTSTRAP_TOKEN: 'tls-admin' }, stdio: 'ignore' });
  try {
    const health = await waitFor('vws serve to answer over HTTPS', async () => (await get(port, '/v1/health').catch(() => null)) ?? undefined, { everyMs: 50 });
    assert.equal(health.status, 200);
    assert.equal((await get(port, '/v1/leases')).status, 401);
    assert.equal((await get(port, '/v1/leases', 'tls-admin')).status, 200);
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
