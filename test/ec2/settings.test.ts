// vws serve's --ec2-* options and the instance type table a site gives: bad input is refused
// before the server starts, with what was wrong and what to give instead.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ec2Settings } from '../../src/cli/ec2-serve.ts';
import { BUILT_IN_TYPES, parseInstanceTypes } from '../../src/ec2/instance-types.ts';

test('the --ec2-* options need --ec2-listen, and each is checked', () => {
  assert.equal(ec2Settings({}), null);
  assert.throws(() => ec2Settings({ 'ec2-region': 'x' }), /--ec2-region configures the EC2 front-end: give --ec2-listen/);
  assert.throws(() => ec2Settings({ 'ec2-listen': 'nohost' }), /--ec2-listen must be HOST:PORT/);
  assert.throws(() => ec2Settings({ 'ec2-listen': '127.0.0.1:1', 'ec2-region': 'Us East' }), /--ec2-region must be lower-case/);
  assert.throws(() => ec2Settings({ 'ec2-listen': '127.0.0.1:1', 'ec2-lease-seconds': '0' }), /--ec2-lease-seconds must be a positive whole number/);
  const s = ec2Settings({ 'ec2-listen': '127.0.0.1:8081' })!;
  assert.deepEqual([s.host, s.port, s.region, s.leaseSeconds, s.instanceTypes], ['127.0.0.1', 8081, 'vws', 86400, BUILT_IN_TYPES]);
});

test('an instance type table: a JSON object of {cpu, memoryMiB}, each entry checked', () => {
  assert.deepEqual([...parseInstanceTypes('{"c5.large": {"cpu": 2, "memoryMiB": 4096}}', 'f.json')], [['c5.large', { cpu: 2, memoryMiB: 4096 }]]);
  assert.throws(() => parseInstanceTypes('{', 'f.json'), /f.json is not JSON/);
  assert.throws(() => parseInstanceTypes('[]', 'f.json'), /must be a JSON object/);
  assert.throws(() => parseInstanceTypes('{}', 'f.json'), /names no instance type/);
  assert.throws(() => parseInstanceTypes('{"Big": {"cpu": 2, "memoryMiB": 4096}}', 'f.json'), /'Big' is not an instance type name/);
  assert.throws(() => parseInstanceTypes('{"c5.large": {"cpu": 2}}', 'f.json'), /'c5.large' must be \{"cpu": N, "memoryMiB": N\}/);
  assert.throws(() => parseInstanceTypes('{"c5.large": {"cpu": 2, "memoryMiB": 1.5}}', 'f.json'), /memoryMiB a positive whole number/);
  assert.throws(() => parseInstanceTypes('{"c5.large": {"cpu": 2, "memoryMiB": 4096, "gpu": 1}}', 'f.json'), /must be/);
});
