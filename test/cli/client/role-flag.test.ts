// --role NAME:KEY=VALUE,...: the options printed for a cluster (a refusal's alternatives) ask for
// exactly that cluster, and what is wrong in one is a usage error naming the role and key.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Args } from '../../../src/cli/client/args.ts';
import { type LeaseSpec, specArgs, specFromArgs } from '../../../src/cli/client/lease-spec.ts';
import { roleFlag, roleFromFlag, type RoleSpec } from '../../../src/cli/client/role-flag.ts';
import { parseLine } from '../../../src/cli/program.ts';
import { ENTRY_NAME, ROLE_NAME } from '../../../src/core/roles.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

const NOW = 1_795_000_000;
async function parse(argv: string[]): Promise<LeaseSpec> {
  const { path, values, positionals } = await parseLine(['lease', 'create', ...argv]);
  return specFromArgs(new Args(path, values, positionals), NOW);
}

const roleArb: fc.Arbitrary<RoleSpec> = fc.record({
  name: fc.stringMatching(ROLE_NAME),
  count: fc.integer({ min: 1, max: 100_000 }),
  cpu: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.double({ min: 0.001, max: 64, noNaN: true })),
  memoryMiB: fc.integer({ min: 1, max: 2 ** 24 }),
  diskMiB: fc.nat({ max: 2 ** 30 }),
  image: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
  networks: fc.constantFrom<RoleSpec['networks']>(['public'], ['private'], ['public', 'private'], ['private', 'public']),
  provides: fc.uniqueArray(fc.stringMatching(ENTRY_NAME), { maxLength: 3 }),
  requires: fc.uniqueArray(fc.tuple(fc.stringMatching(ROLE_NAME), fc.stringMatching(ENTRY_NAME)).map(([r, e]) => `${r}.${e}`), { maxLength: 3 }),
  minCount: fc.integer({ min: 1, max: 10 }),
}, { requiredKeys: ['name', 'count', 'cpu', 'memoryMiB', 'networks', 'provides', 'requires'] });

/** What the server fills in: a role's disk is 0 unless given. */
const effective = (r: RoleSpec): RoleSpec => ({ ...r, diskMiB: r.diskMiB ?? 0 });

test('property: a role printed as --role reads back as the same role', () => {
  fc.assert(fc.property(roleArb, (role) => {
    assert.deepEqual(effective(roleFromFlag(roleFlag(role))), effective(role));
  }), { numRuns: 500 });
});

test('property: a cluster\'s printed options ask for exactly that cluster', async () => {
  await fc.assert(fc.asyncProperty(fc.array(roleArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 86400 }), async (roles, duration) => {
    const spec: LeaseSpec = { kind: 'best-effort', roles, duration };
    const back = await parse(specArgs(spec));
    assert.deepEqual({ ...back, roles: back.roles?.map(effective) }, { ...spec, roles: roles.map(effective) });
  }), { numRuns: 200 });
});

test('--role gives a cluster without --nodes, --cpu or --memory; networks default to private', async () => {
  assert.deepEqual(await parse(['--duration', '1h', '--role', 'head:count=1,cpu=0.5,memory=512,disk=10,image=deb,networks=public+private,provides=nfs-export+key,min-count=1', '--role', 'w:count=3,cpu=1,memory=256,requires=head.ip']), {
    kind: 'best-effort', duration: 3600, roles: [
      { name: 'head', count: 1, cpu: 0.5, memoryMiB: 512, diskMiB: 10, image: 'deb', networks: ['public', 'private'], provides: ['nfs-export', 'key'], requires: [], minCount: 1 },
      { name: 'w', count: 3, cpu: 1, memoryMiB: 256, networks: ['private'], provides: [], requires: ['head.ip'] },
    ],
  });
});

test('a wrong --role is a usage error naming the role and the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['w:count=1,cpu=1', /add memory=\.\.\./],
    ['w:count=1,cpu=1,memory=1,colour=red', /unknown key 'colour'/],
    ['w:count=1,cpu=0,memory=1', /--role w cpu must be a number > 0/],
    ['w:count=1,cpu=1,memory=1,disk=-1', /--role w disk must be a whole number >= 0/],
    ['w:count=1,cpu=1,memory=1,image=', /image needs a value/],
    ['w:count=1,cpu=1,memory', /memory needs a value/],
    [':count=1', /start with the role's name and a colon/],
  ];
  for (const [role, message] of cases) {
    await assert.rejects(parse(['--duration', '1h', '--role', role]), (e: Error) => e instanceof UsageError && message.test(e.message), role);
  }
  // Without roles or a file, a lease of one shape still needs its options, and says roles are the other way.
  await assert.rejects(parse(['--duration', '1h']), /needs --nodes N \(how many VMs, one per node\), or --role \(a cluster\), or -f FILE/);
});
