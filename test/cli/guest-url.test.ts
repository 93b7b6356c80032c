// vws serve --guest-url: the URL guests reach the service at, put in cluster members' seeds; the
// listen address's URL without it; anything but an http(s) URL refused with what to give.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestUrlOf } from '../../src/cli/serve-command.ts';
import { UsageError } from '../../src/cli/usage-error.ts';

test('the guest URL is --guest-url as given (trailing slashes dropped), else the listen address\'s', () => {
  assert.equal(guestUrlOf(undefined, '10.77.0.1', 8080, false), 'http://10.77.0.1:8080');
  assert.equal(guestUrlOf(undefined, '10.77.0.1', 8443, true), 'https://10.77.0.1:8443');
  assert.equal(guestUrlOf(undefined, 'fd00::1', 8080, false), 'http://[fd00::1]:8080');
  assert.equal(guestUrlOf('http://10.77.0.1:8080/', '0.0.0.0', 8080, false), 'http://10.77.0.1:8080');
  assert.equal(guestUrlOf('https://vws.example.org/base', '0.0.0.0', 8080, false), 'https://vws.example.org/base');
});

test('a --guest-url that is not an http(s) URL without query, fragment or user is refused, saying what to give', () => {
  for (const bad of ['10.77.0.1:8080', 'ftp://h/', 'file:///etc/passwd', 'http://h/?a=1', 'http://h/#x', 'http://u:p@h/', `http://h/${'a'.repeat(1100)}`, '']) {
    assert.throws(() => guestUrlOf(bad, '127.0.0.1', 8080, false), (e: unknown) => e instanceof UsageError && /--guest-url must be/.test((e as Error).message), bad);
  }
});
