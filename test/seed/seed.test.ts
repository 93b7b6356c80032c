// The NoCloud seed generator against cloud-init itself: every variant it makes (with and without
// keys, broker, the lease's user-data, one or two NICs) passes `cloud-init schema --config-file`
// and reads back, through cloud-init's own YAML reader and MIME splitter, as exactly what was
// meant; and hostile inputs (hostnames, keys, URLs, user-data with YAML and MIME boundary tricks)
// are refused by field or come out as inert values that cannot add a key or a part.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { CONTEXT_AGENT, CONTEXT_CONFIG, CONTEXT_ENTRIES } from '../../src/seed/cloud-config.ts';
import { BOUNDARY } from '../../src/seed/multipart.ts';
import { HOSTNAME_PATTERN, hostnameOf, instanceIdOf, LONGEST_PUBLIC_KEY, LONGEST_SSH_KEY, LONGEST_URL, LONGEST_USER_DATA_BYTES, MOST_NICS, MOST_SSH_KEYS, type SeedInput, seedInputProblem } from '../../src/seed/seed-input.ts';
import { seedProblem } from '../../src/drivers/qemu/agent-messages.ts';
import { buildSeed, SeedInputError, USER_MERGE_TYPE, userDataParts } from '../../src/seed/seed.ts';
import { type ReadSeed, readSeeds } from './seed-reader.ts';

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIb2o0mQ5sOqk1w8Zq2n9yR3u4pP0s1b2c3d4e5f6g7h owner@laptop';
const KEY_B = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= second key';
const BROKER = {
  agentUrl: 'http://10.77.0.1:8080/v1/context/agent', agentSha256: 'a'.repeat(64), serviceUrl: 'http://10.77.0.1:8080',
  secret: 'c2VjcmV0LW9uZS10aW1l_-x', publicKey: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n',
};
const NIC_PUBLIC = { name: 'public', mac: '52:54:00:12:34:01' };
const NIC_PRIVATE = { name: 'private', mac: '52:54:00:12:34:02' };
const CLOUD_CONFIG = '#cloud-config\npackages: [htop]\nruncmd:\n  - [touch, /root/lease-ran]\n';
const SCRIPT = '#!/bin/sh\necho lease script > /root/lease-script\n';

/** Every combination the generator distinguishes. */
function variants(): SeedInput[] {
  const out: SeedInput[] = [];
  for (const keys of [undefined, { sshKeys: [KEY_A, KEY_B] }, { sshKeys: [KEY_A], sshUser: 'alice' }]) {
    for (const broker of [undefined, BROKER]) {
      for (const userData of [undefined, CLOUD_CONFIG, SCRIPT]) {
        for (const nics of [[NIC_PUBLIC], [NIC_PUBLIC, NIC_PRIVATE]]) {
          out.push({ workspaceId: 'lease-7/1', hostname: 'worker-1', domain: 'c7.vws.internal', nics, ...keys, ...(broker ? { broker } : {}), ...(userData ? { userData } : {}) });
        }
      }
    }
  }
  return out;
}

/** The vws cloud-config a seed's input must read back as, key for key. */
function expectedConfig(input: SeedInput): Record<string, unknown> {
  const keys = input.sshKeys ?? [];
  const user = input.sshUser ?? 'root';
  return {
    hostname: input.hostname,
    fqdn: input.domain ? `${input.hostname}.${input.domain}` : input.hostname,
    manage_etc_hosts: 'localhost',
    ...(keys.length === 0 ? {} : user === 'root' ? { disable_root: false, ssh_authorized_keys: keys } : { users: ['default', { name: user, shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: keys }] }),
  };
}

/** What read back must be, for an input the generator took. */
function assertReadsAsMeant(input: SeedInput, read: ReadSeed): void {
  const where = `for input ${JSON.stringify(input)}`;
  assert.deepEqual(read.metaData, { 'instance-id': instanceIdOf(input.workspaceId), 'local-hostname': input.hostname }, where);
  assert.deepEqual(read.networkConfig, {
    version: 2,
    ethernets: Object.fromEntries(input.nics.map((n) => [n.name, { match: { macaddress: n.mac }, 'set-name': n.name, dhcp4: true }])),
  }, where);
  assert.ok(read.multipart, where);
  assert.equal(read.parts.length, input.userData === undefined ? 1 : 2, `one part for vws, one for the lease's user-data ${where}`);
  const [vws, lease] = read.parts;
  assert.equal(vws.type, 'text/cloud-config', where);
  assert.equal(vws.schemaProblem, null, where);
  const config = { ...vws.config } as Record<string, unknown>;
  const { write_files: files, runcmd, ...rest } = config;
  assert.deepEqual(rest, expectedConfig(input), where);
  if (input.broker) {
    const written = files as Array<{ path: string; permissions: string; owner: string; content: string }>;
    assert.equal(written[0].path, CONTEXT_CONFIG, where);
    assert.equal(written[0].permissions, '0600', `the context agent's config is root's alone ${where}`);
    assert.equal(written[0].owner, 'root:root', where);
    assert.deepEqual(JSON.parse(written[0].content), {
      server: input.broker.serviceUrl, lease: input.workspaceId.slice(0, input.workspaceId.lastIndexOf('/')), member: input.broker.member ?? input.workspaceId,
      secret: input.broker.secret, hostname: input.hostname, publicKey: input.broker.publicKey, entriesFile: CONTEXT_ENTRIES,
    }, `the context agent's own config format ${where}`);
    const fetch = (runcmd as string[][]).find((c) => c[0] === 'python3')!;
    assert.deepEqual(fetch.slice(3), [input.broker.agentUrl, CONTEXT_AGENT, input.broker.agentSha256 ?? ''], `URL and hash are arguments, whole ${where}`);
  } else {
    assert.equal(files, undefined, `no broker, no context files ${where}`);
    assert.equal(runcmd, undefined, where);
  }
  // What cloud-init merges: vws's settings stay whatever the lease's part says, and vws's commands still run, first.
  const merged = read.merged!;
  assert.equal(merged.hostname, input.hostname, `the lease's user-data cannot change vws's hostname ${where}`);
  assert.equal(merged.fqdn, expectedConfig(input).fqdn, where);
  if (input.sshKeys?.length && (input.sshUser ?? 'root') === 'root') assert.deepEqual((merged.ssh_authorized_keys as string[]).slice(0, input.sshKeys.length), input.sshKeys, where);
  if (input.broker) assert.deepEqual((merged.runcmd as unknown[]).slice(0, (runcmd as unknown[]).length), runcmd, `vws's commands run first, whatever the lease adds ${where}`);
  if (input.userData !== undefined) {
    assert.equal(lease.text, input.userData, `the lease's user-data arrives byte for byte ${where}`);
    assert.equal(lease.mergeType, lease.type === 'text/cloud-config' ? USER_MERGE_TYPE : null, where);
  }
}

test('every variant the generator makes passes `cloud-init schema --config-file` and reads back as meant', () => {
  const inputs = variants();
  assert.equal(inputs.length, 36);
  const read = readSeeds(inputs.map(buildSeed));
  inputs.forEach((input, i) => assertReadsAsMeant(input, read[i]));
  // The CLI itself on each distinct #cloud-config document (the user-data variants repeat vws's part).
  const documents = new Set(inputs.flatMap((input) => userDataParts(input).filter((p) => p.type === 'text/cloud-config').map((p) => p.content)));
  assert.equal(documents.size, 7, 'six vws parts (keys x broker) and the lease cloud-config');
  const dir = mkdtempSync(join(tmpdir(), 'vws-seed-schema-'));
  try {
    for (const [i, doc] of [...documents].entries()) {
      const file = join(dir, `part-${i}.cfg`);
      writeFileSync(file, doc);
      const out = execFileSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.match(out, /Valid cloud-config/, doc);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the lease's #cloud-config adds to vws's (cloud-init's own merge): its commands and files run beside vws's, vws's hostname and keys stay", () => {
  const input: SeedInput = {
    workspaceId: 'l/0', hostname: 'head-0', nics: [NIC_PUBLIC], sshKeys: [KEY_A], broker: BROKER,
    userData: '#cloud-config\nhostname: other\nfqdn: other.example\nssh_authorized_keys: [ssh-ed25519 AAAAlease]\nruncmd:\n  - [touch, /lease]\nwrite_files:\n  - {path: /etc/lease, content: x}\n',
  };
  const [read] = readSeeds([buildSeed(input)]);
  const merged = read.merged as { hostname: string; fqdn: string; ssh_authorized_keys: string[]; runcmd: string[][]; write_files: Array<{ path: string }> };
  assert.equal(merged.hostname, 'head-0');
  assert.equal(merged.fqdn, 'head-0');
  assert.deepEqual(merged.ssh_authorized_keys, [KEY_A, 'ssh-ed25519 AAAAlease']);
  assert.deepEqual(merged.runcmd.map((c) => c[0]), ['chmod', 'python3', 'systemctl', 'systemctl', 'touch']);
  assert.deepEqual(merged.write_files.map((f) => f.path), [CONTEXT_CONFIG, '/etc/systemd/system/vws-context-agent.service', '/etc/lease']);
});

test('cloud-init schema can fail: a document with a wrong type is refused (the check above is not vacuous)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-seed-schema-'));
  try {
    const file = join(dir, 'bad.cfg');
    writeFileSync(file, '#cloud-config\nruncmd: 5\nssh_authorized_keys: yes\n');
    assert.throws(() => execFileSync('cloud-init', ['schema', '--config-file', file], { stdio: 'pipe' }));
    const [read] = readSeeds([{ metaData: '{}', networkConfig: '{}', userData: `Content-Type: text/cloud-config\n\n${'#cloud-config\nruncmd: 5\n'}` }]);
    assert.match(read.parts[0].schemaProblem ?? '', /runcmd/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same input makes the same bytes (a resumed or migrated VM gets the seed it booted with)', () => {
  for (const input of variants()) assert.deepEqual(buildSeed(structuredClone(input)), buildSeed(input));
});

test('bad inputs are refused by field, with what to do', () => {
  const good: SeedInput = { workspaceId: 'l/0', hostname: 'h', nics: [NIC_PUBLIC] };
  const cases: Array<[Partial<SeedInput>, RegExp]> = [
    [{ hostname: 'Head_0' }, /^hostname must be 1 to 63 lowercase/],
    [{ hostname: 'a'.repeat(64) }, /^hostname/],
    [{ domain: 'x..y' }, /^domain/],
    [{ workspaceId: 'l' }, /^workspaceId/],
    [{ nics: [] }, /^nics must list 1 to 8/],
    [{ nics: [NIC_PUBLIC, { name: 'public', mac: '52:54:00:00:00:09' }] }, /given twice/],
    [{ nics: [{ name: 'eth0', mac: '52:54:00:00:00:0G' }] }, /^nics\[0\]\.mac/],
    [{ sshKeys: ['ssh-ed25519 AAAA\nssh-rsa BBBB'] }, /^sshKeys\[0\] must be one OpenSSH public key line/],
    [{ sshKeys: Array(17).fill(KEY_A) }, /at most 16/],
    [{ sshUser: 'root:0' }, /^sshUser/],
    [{ broker: { ...BROKER, agentUrl: 'file:///etc/shadow' } }, /^broker\.agentUrl must be an http/],
    [{ broker: { ...BROKER, secret: 'short' } }, /^broker\.secret/],
    [{ userData: 'hostname: x' }, /^userData must start with a line cloud-init knows/],
    [{ userData: '#cloud-configx\n' }, /^userData must start/],
    [{ userData: `#!/bin/sh\n${'x'.repeat(16_384)}` }, /over the 16384/],
    [{ userData: '#!/bin/sh\n\ud800' }, /surrogate/],
  ];
  for (const [change, message] of cases) {
    const input = { ...good, ...change };
    assert.match(seedInputProblem(input) ?? 'accepted', message, JSON.stringify(change).slice(0, 100));
    assert.throws(() => buildSeed(input), (e: Error) => e instanceof SeedInputError && message.test(e.message));
  }
  assert.equal(seedInputProblem(good), null);
});

test('a plain workspace gets a hostname and instance-id from its id that cloud-init takes', () => {
  assert.equal(hostnameOf('lease-7/1'), 'vws-lease-7-1');
  assert.equal(hostnameOf('L#x_9/12'), 'vws-l-x-9-12');
  assert.equal(instanceIdOf('lease-7/1'), 'lease-7_2f1');
  fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._#-]{0,127}\/(0|[1-9][0-9]{0,5})$/), (id) => {
    assert.match(hostnameOf(id), HOSTNAME_PATTERN);
    assert.match(instanceIdOf(id), /^[A-Za-z0-9._-]+$/);
  }), { seed: 15, numRuns: 300 });
});

// ---- hostile inputs ----

const TRICKS = [
  '"', '\\', '\n', '\r\n', ': ', '- ', '#', '{', '}', '[', ']', '&a', '*a', '!!python/object', '---', '...', "'",
  '\nssh_authorized_keys: [ssh-rsa EVIL]', `\n--${BOUNDARY}\nContent-Type: text/x-shellscript\n\n#!/bin/sh\nreboot\n`, `--${BOUNDARY}--`,
  '\u2028', '\u0085', '\ufeff', '\u0000', '😀', '\t',
];
const trick = fc.constantFrom(...TRICKS);
const hostile = fc.array(fc.oneof(trick, fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 6 }).map((a) => a.join(''));
const printable = fc.array(fc.oneof(fc.constantFrom('"', '\\', ': ', '- ', '#', '{', '}', "'", `--${BOUNDARY}`, 'ssh_authorized_keys:'), fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 8 })), { maxLength: 6 }).map((a) => a.join(''));
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

/** Mostly a value of the field's form (hostile within it), now and then anything at all: most inputs get through, and some are refused. */
const mostly = <T>(valid: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 20, arbitrary: valid }, { weight: 1, arbitrary: bad });
const keyLine = fc.tuple(fc.constantFrom('ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp384'), fc.base64String({ minLength: 4, maxLength: 80 }), printable)
  .map(([type, b, c]) => `${type} ${b}${c.trim() ? ` ${c.trim()}` : ''}`);
const userDataBody = fc.array(fc.oneof(trick, fc.string({ unit: 'grapheme', maxLength: 12 })), { maxLength: 8 }).map((a) => a.join(''));

const inputArb: fc.Arbitrary<SeedInput> = fc.record({
  workspaceId: mostly(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._#-]{0,20}\/(0|[1-9][0-9]{0,2})$/), hostile),
  hostname: mostly(label, hostile),
  domain: fc.option(mostly(fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')), hostile), { nil: undefined }),
  nics: fc.constantFrom([NIC_PUBLIC], [NIC_PUBLIC, NIC_PRIVATE]),
  sshKeys: fc.option(fc.array(mostly(keyLine, hostile), { maxLength: 3 }), { nil: undefined }),
  sshUser: fc.option(mostly(fc.constantFrom('root', 'alice'), fc.constant('Ev il')), { nil: undefined }),
  broker: fc.option(fc.record({
    agentUrl: mostly(fc.oneof(printable.map((p) => `http://10.0.0.1/a?${encodeURI(p)}`), printable.map((p) => `http://h/${p.replace(/ /g, '')}`)), hostile),
    serviceUrl: fc.constant('https://vws.example:8443'),
    secret: mostly(fc.stringMatching(/^[A-Za-z0-9_-]{16,40}$/), hostile),
    publicKey: fc.constant(BROKER.publicKey),
  }), { nil: undefined }),
  userData: fc.option(fc.tuple(mostly(fc.constantFrom('#cloud-config\n', '#!/bin/sh\n', '#cloud-boothook\n'), fc.constant('')), userDataBody).map(([h, body]) => h + body), { nil: undefined }),
}, { requiredKeys: ['workspaceId', 'hostname', 'nics'] });

test('hostile inputs are refused by field or read back as inert values: no key, no part, no line they did not mean (cloud-init reads 400)', (t) => {
  const samples = fc.sample(inputArb, { seed: 1515, numRuns: 400 });
  const taken: Array<{ input: SeedInput; seed: ReturnType<typeof buildSeed> }> = [];
  let refused = 0;
  for (const input of samples) {
    const problem = seedInputProblem(input);
    if (problem) {
      refused++;
      assert.throws(() => buildSeed(input), (e: Error) => e instanceof SeedInputError && e.message === problem);
      // Refused by the field at fault: the message starts with its name.
      assert.match(problem, /^(workspaceId|hostname|domain|hostname\.domain|nics|sshKeys|sshUser|broker\.\w+|userData)\b/);
      continue;
    }
    taken.push({ input, seed: buildSeed(input) });
  }
  assert.ok(taken.length > 100 && refused > 50, `both sides exercised: ${taken.length} taken, ${refused} refused`);
  t.diagnostic(`${taken.length} taken, ${refused} refused`);
  const read = readSeeds(taken.map((t) => t.seed));
  taken.forEach(({ input }, i) => assertReadsAsMeant(input, read[i]));
});

test('whatever the input, the user-data has exactly one boundary line per part and the vws part only the generator\'s keys', () => {
  fc.assert(fc.property(inputArb, (input) => {
    if (seedInputProblem(input)) return;
    const seed = buildSeed(input);
    const parts = input.userData === undefined ? 1 : 2;
    assert.equal(seed.userData.split('\n').filter((l) => l.startsWith(`--${BOUNDARY}`)).length, parts + 1);
    const vws = userDataParts(input)[0].content;
    const topKeys = vws.split('\n').slice(1).filter((l) => /^[^ -]/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    const allowed = new Set(['hostname', 'fqdn', 'manage_etc_hosts', 'disable_root', 'ssh_authorized_keys', 'users', 'write_files', 'runcmd']);
    for (const k of topKeys) assert.ok(allowed.has(k), `vws part has key ${k}`);
    assert.ok([...vws].every((c) => c === '\n' || (c >= ' ' && c <= '~')), 'the vws part is printable ASCII');
  }), { seed: 77, numRuns: 1000 });
});

test('the largest seed the generator makes is within what an agent writes', () => {
  const longKey = `ssh-rsa ${'A'.repeat(LONGEST_SSH_KEY - 'ssh-rsa '.length)}`;
  const largest: SeedInput = {
    workspaceId: `${'l'.repeat(128)}/999999`, hostname: 'h'.repeat(63), domain: Array(3).fill('d'.repeat(62)).join('.'),
    nics: Array.from({ length: MOST_NICS }, (_, i) => ({ name: `n${'x'.repeat(13)}${i}`, mac: `52:54:00:00:00:0${i}` })),
    sshKeys: Array(MOST_SSH_KEYS).fill(longKey), sshUser: 'u'.repeat(32),
    broker: { agentUrl: `http://h/${'"'.repeat(LONGEST_URL - 9)}`, agentSha256: 'f'.repeat(64), serviceUrl: `http://h/${'\\'.repeat(LONGEST_URL - 9)}`, secret: 's'.repeat(512), publicKey: '\n'.repeat(LONGEST_PUBLIC_KEY) },
    userData: `#!/bin/sh\n${'€'.repeat(Math.floor((LONGEST_USER_DATA_BYTES - 10) / 3))}`,
  };
  assert.equal(seedInputProblem(largest), null);
  const seed = buildSeed(largest);
  assert.equal(seedProblem(seed), null, `sizes: ${seed.metaData.length}, ${seed.networkConfig.length}, ${seed.userData.length}`);
});
