// The API's check of a lease's OpenSSH public keys against keys OpenSSH itself makes: every type
// the API names is accepted as ssh-keygen writes it; a line altered in any one way is refused.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { SSH_KEY_PATTERN } from '../../src/api/cluster-schemas.ts';
import { sshKeyProblem } from '../../src/api/cluster-request.ts';

const PATTERN = new RegExp(SSH_KEY_PATTERN);
const accepted = (line: string): boolean => PATTERN.test(line) && sshKeyProblem(line) === null;

function keygen(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'vws-keys-'));
  try {
    return [['ed25519'], ['rsa', '-b', '3072'], ['ecdsa', '-b', '256']].map(([type, ...bits], i) => {
      const file = join(dir, `k${i}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', `ann@laptop ${type}`, '-f', file]);
      return readFileSync(`${file}.pub`, 'utf8').trim();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const KEYS = keygen();

test('keys ssh-keygen makes, of each type the API names, are accepted as written', () => {
  assert.deepEqual(KEYS.map((k) => k.split(' ')[0]), ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
  for (const key of KEYS) assert.ok(accepted(key), key);
  for (const key of KEYS) assert.ok(accepted(key.split(' ').slice(0, 2).join(' ')), `without its comment: ${key}`);
});

test('property: a key line with its type swapped, its base64 cut or changed, or a line break added is refused', () => {
  const alter = fc.oneof(
    fc.record({ how: fc.constant('type' as const), to: fc.constantFrom('ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256') }),
    fc.record({ how: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ how: fc.constant('flip' as const), at: fc.nat(), to: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') }),
    fc.record({ how: fc.constant('newline' as const), at: fc.nat() }),
  );
  fc.assert(fc.property(fc.constantFrom(...KEYS), alter, (key, a) => {
    const [type, b64, ...comment] = key.split(' ');
    let line: string;
    if (a.how === 'type') {
      fc.pre(a.to !== type);
      line = [a.to, b64, ...comment].join(' ');
    } else if (a.how === 'cut') {
      // Anywhere before its end: a whole field or a part of one is missing.
      const keep = 4 + (a.at % (b64.length - 5));
      line = [type, b64.slice(0, keep), ...comment].join(' ');
    } else if (a.how === 'flip') {
      // Within the type name's bytes, which the line's type must match (base64 chars 0..19 hold length and name).
      const at = a.at % 16;
      fc.pre(b64[at] !== a.to);
      line = [type, b64.slice(0, at) + a.to + b64.slice(at + 1), ...comment].join(' ');
    } else {
      const at = a.at % key.length;
      line = `${key.slice(0, at)}\n${key.slice(at)}`;
    }
    assert.equal(accepted(line), false, line);
  }), { numRuns: 500 });
});
