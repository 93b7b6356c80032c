// The site's EC2 configuration read strictly, the smallest type that fits, who pays for whose
// lease, and EC2's billing rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ec2Charge, charged } from '../../../src/drivers/ec2/charges.ts';
import { accountFor, parseSiteConfig, siteConfigFromText, typeFor } from '../../../src/drivers/ec2/site-config.ts';

const good = {
  region: 'eu-west-1',
  instanceTypes: [
    { name: 'big', cpu: 8, memoryMiB: 32768, pricePerHour: 0.4 },
    { name: 'small-dear', cpu: 2, memoryMiB: 4096, pricePerHour: 0.1 },
    { name: 'small-cheap', cpu: 2, memoryMiB: 4096, pricePerHour: 0.05 },
    { name: 'tiny', cpu: 1, memoryMiB: 1024, pricePerHour: 0.01 },
  ],
  images: { debian: 'ami-0123456789abcdef0' },
  accounts: { users: { alice: { accessKeyId: 'AK1', secretAccessKey: 's1' } }, groups: { physics: { profile: 'physics' }, chemistry: { accessKeyId: 'AK2', secretAccessKey: 's2' } } },
};

test('a good configuration is read as written', () => {
  const c = parseSiteConfig(good);
  assert.equal(c.region, 'eu-west-1');
  assert.equal(c.instanceTypes.length, 4);
  assert.deepEqual(c.accounts.groups?.physics, { profile: 'physics' });
  assert.equal(c.accounts.default, undefined, 'no default account unless the site configures one');
  assert.equal(c.slots, undefined, 'no slots unless given: the simulator takes its default');
  assert.equal(c.unitsPerDollar, undefined);
  const priced = parseSiteConfig({ ...good, slots: 100_000, unitsPerDollar: 12.5 });
  assert.equal(priced.slots, 100_000);
  assert.equal(priced.unitsPerDollar, 12.5);
});

test('each mistake is refused naming the field', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ ...good, region: undefined }, /region: must be a non-empty string/],
    [{ ...good, region: 'mars' }, /region: 'mars' is not a region name/],
    [{ ...good, instanceTypes: [] }, /instanceTypes: must be a non-empty list/],
    [{ ...good, instanceTypes: [{ name: 'x', cpu: 0, memoryMiB: 1, pricePerHour: 1 }] }, /instanceTypes\[0\]\.cpu: must be a number > 0, got 0/],
    [{ ...good, instanceTypes: [{ name: 'x', cpu: 1, memoryMiB: 1, pricePerHour: 1, gpus: 2 }] }, /instanceTypes\[0\]: unknown field 'gpus'/],
    [{ ...good, instanceTypes: [good.instanceTypes[0], good.instanceTypes[0]] }, /lists type 'big' twice/],
    [{ ...good, images: { debian: 'debian-12' } }, /images\.debian: 'debian-12' is not an AMI id/],
    [{ ...good, accounts: { users: { bob: { accessKeyId: 'AK' } } } }, /accounts\.users\.bob\.secretAccessKey: must be a non-empty string/],
    [{ ...good, accounts: { everyone: {} } }, /accounts: unknown field 'everyone'/],
    [{ ...good, zones: ['us-east-1a'] }, /zones: zone 'us-east-1a' is not in region eu-west-1/],
    [{ ...good, endpoint: 'moto' }, /endpoint: 'moto' is not a URL/],
    [{ ...good, regoin: 'x' }, /\(top level\): unknown field 'regoin'/],
    [{ ...good, slots: 0 }, /slots: must be a whole number of instances at once per zone, 1 to 100000, got 0/],
    [{ ...good, slots: 2.5 }, /slots: must be a whole number/],
    [{ ...good, slots: 100_001 }, /slots: must be a whole number/],
    [{ ...good, slots: '8' }, /slots: must be a whole number of instances at once per zone, 1 to 100000, got "8"/],
    [{ ...good, unitsPerDollar: 0 }, /unitsPerDollar: must be a number > 0, got 0/],
    [{ ...good, unitsPerDollar: null }, /unitsPerDollar: must be a number > 0, got null/],
  ];
  for (const [raw, message] of bad) assert.throws(() => parseSiteConfig(raw), message);
  assert.throws(() => siteConfigFromText('site.json', '{'), /in site\.json: is not JSON/);
});

test('a VM gets the smallest type that fits: CPUs, then memory, then price; none fits: why', () => {
  const { instanceTypes } = parseSiteConfig(good);
  assert.equal((typeFor(instanceTypes, 1, 512) as { name: string }).name, 'tiny');
  assert.equal((typeFor(instanceTypes, 1, 2048) as { name: string }).name, 'small-cheap');
  assert.equal((typeFor(instanceTypes, 3, 1024) as { name: string }).name, 'big');
  assert.match(typeFor(instanceTypes, 16, 1024) as string, /no instance type of the site fits 16 CPU and 1024 MiB: the types are big \(8 CPU, 32768 MiB\)/);
});

test("the account is the owner's, else the lease's group's, else one of the owner's groups', else the default; else refused", () => {
  const c = parseSiteConfig(good);
  assert.equal((accountFor(c, { owner: 'alice', group: 'physics', memberOf: ['physics'] }) as { key: string }).key, 'user:alice');
  assert.equal((accountFor(c, { owner: 'bob', group: 'physics', memberOf: ['chemistry', 'physics'] }) as { key: string }).key, 'group:physics');
  assert.equal((accountFor(c, { owner: 'bob', group: null, memberOf: ['physics', 'chemistry'] }) as { key: string }).key, 'group:chemistry');
  assert.equal(accountFor(c, { owner: 'carol', group: null, memberOf: ['biology'] }), 'user carol may not run on EC2: no account in the EC2 site configuration for the user nor for its groups (biology), and the site has no default account; an administrator adds one under accounts.users or accounts.groups');
  const withDefault = parseSiteConfig({ ...good, accounts: { ...good.accounts, default: { profile: 'site' } } });
  assert.equal((accountFor(withDefault, { owner: 'carol', group: null, memberOf: [] }) as { key: string }).key, 'default');
});

test('EC2 charges per second with a 60 s minimum, at the hourly price', () => {
  assert.equal(ec2Charge(0, 3.6), 0.06, 'an instance that never really ran pays a minute');
  assert.equal(ec2Charge(59.2, 3.6), 0.06);
  assert.equal(ec2Charge(60, 3.6), 0.06);
  assert.equal(ec2Charge(61, 3.6), 0.061);
  assert.equal(ec2Charge(60.2, 3.6), 0.061, 'a started second is a second');
  assert.equal(ec2Charge(3600, 0.17), 0.17);
  assert.throws(() => ec2Charge(-1, 1), /cannot run -1 seconds/);
  const record = { leaseId: 'l', vmId: 'l/0', instanceId: 'i-1', instanceType: 't', pricePerHour: 3.6, from: 1000, until: null };
  assert.deepEqual({ ...charged(record, 1090) }, { ...record, billedSeconds: 90, amount: 0.09 }, 'a running instance is charged up to now');
  assert.equal(charged({ ...record, until: 1010 }, 5000).billedSeconds, 60);
});
