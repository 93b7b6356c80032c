import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configPath, normalizeServer, readConfig, resolveCredentials, writeConfig } from '../../../src/cli/client/config.ts';
import { ClientError } from '../../../src/cli/client/errors.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'vws-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;

test('the config file is written with mode 0600 in a new directory of mode 0700, whatever the umask', () => {
  const path = join(dir, 'fresh', 'vws', 'config.json');
  const old = process.umask(0o000);
  try {
    writeConfig(path, { server: 'http://a:1', token: 't1' });
  } finally {
    process.umask(old);
  }
  assert.equal(mode(path), 0o600);
  assert.equal(mode(join(dir, 'fresh', 'vws')), 0o700);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { server: 'http://a:1', token: 't1' });
  assert.deepEqual(readConfig(path), { server: 'http://a:1', token: 't1' });
});

test('rewriting a config that others could read leaves it 0600, with nothing left beside it', () => {
  const sub = join(dir, 'rewrite');
  mkdirSync(sub);
  const path = join(sub, 'config.json');
  writeFileSync(path, '{"server":"http://old:1","token":"old"}');
  chmodSync(path, 0o644);
  const warnings: string[] = [];
  assert.equal(readConfig(path, (w) => warnings.push(w))?.token, 'old');
  assert.match(warnings.join(), /can be read by other users; run: chmod 600/);
  writeConfig(path, { server: 'http://new:2', token: 'new' });
  assert.equal(mode(path), 0o600);
  assert.deepEqual(readConfig(path), { server: 'http://new:2', token: 'new' });
  assert.deepEqual(readdirSync(sub), ['config.json'], 'no temporary file remains');
});

test('no config file is no credentials; a broken one is an error that says how to fix it', () => {
  assert.equal(readConfig(join(dir, 'absent.json')), null);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"server": ', { mode: 0o600 });
  assert.throws(() => readConfig(broken), (e: Error) => e instanceof ClientError && /not valid JSON.*vws login/.test(e.message));
  writeFileSync(broken, '["x"]');
  assert.throws(() => readConfig(broken), /must hold a JSON object/);
});

test('VWS_CONFIG names the file, else ~/.config/vws/config.json', () => {
  assert.equal(configPath({ VWS_CONFIG: '/x/y.json' }), '/x/y.json');
  assert.equal(configPath({}), join(homedir(), '.config', 'vws', 'config.json'));
});

test('credentials come from the flags, else the environment, else the config file, each part on its own', () => {
  const config = { server: 'http://config:1', token: 'config-token' };
  const env = { VWS_SERVER: 'http://env:2', VWS_TOKEN: 'env-token' };
  assert.deepEqual(resolveCredentials({ server: 'http://flag:3', token: 'flag-token' }, env, config), { server: 'http://flag:3', token: 'flag-token' });
  assert.deepEqual(resolveCredentials({}, env, config), { server: 'http://env:2', token: 'env-token' });
  assert.deepEqual(resolveCredentials({}, {}, config), config);
  assert.deepEqual(resolveCredentials({ token: 'flag-token' }, { VWS_SERVER: 'http://env:2' }, config), { server: 'http://env:2', token: 'flag-token' });
  assert.deepEqual(resolveCredentials({}, { VWS_TOKEN: '' }, config), config, 'an empty variable counts as unset');
  assert.throws(() => resolveCredentials({}, {}, null), (e: Error) => e instanceof UsageError && /no server: pass --server URL, set VWS_SERVER, or run vws login/.test(e.message));
  assert.throws(() => resolveCredentials({ server: 'http://a:1' }, {}, null), /no token: pass --token T, set VWS_TOKEN/);
});

test('a server address is accepted as the server prints it, with or without a scheme and /v1', () => {
  for (const raw of ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/', 'http://127.0.0.1:8080/v1', 'http://127.0.0.1:8080/v1/', '127.0.0.1:8080']) {
    assert.equal(normalizeServer(raw), 'http://127.0.0.1:8080', raw);
  }
  assert.equal(normalizeServer('https://vws.example.org/api/v1'), 'https://vws.example.org/api');
  assert.throws(() => normalizeServer('ftp://x'), /http:\/\/ or https:\/\//);
  assert.throws(() => normalizeServer('http://'), /--server must be a URL/);
});
