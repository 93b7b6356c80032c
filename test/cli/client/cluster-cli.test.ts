// `vws lease create -f cluster.yaml`, `--role`, and `vws lease show` of a cluster, as child
// processes against a real `vws serve`: what a person at a shell sees, including where in their
// file a refused field is.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BOOTSTRAP_TOKEN, freePort, type RealServer, startServer, vws } from './real-server.ts';
import { waitFor } from '../../support/wait.ts';

const CLUSTER_YAML = `# a head and two workers, as in issue 15
kind: best-effort
duration: 3600
roles:
  - name: head
    count: 1
    cpu: 1
    memoryMiB: 512
    networks: [public, private]
    provides: [nfs-export]
    requires: []
  - name: worker
    count: 2
    cpu: 0.5
    memoryMiB: 256
    networks: [private]
    provides: []
    requires: [head.ip, head.host-key, head.nfs-export]
`;

describe('cluster leases from the command line', { timeout: 300_000 }, () => {
  let dir: string;
  let server: RealServer;
  let config: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vws-cluster-cli-'));
    server = await startServer(join(dir, 'data'), await freePort());
    config = join(dir, 'config.json');
    assert.equal(vws(config, 'login', '--server', server.url, '--token', BOOTSTRAP_TOKEN).status, 0);
  });

  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test('create -f cluster.yaml makes the cluster; lease show prints its roles and each workspace\'s role and host name', async () => {
    const made = vws(config, 'lease', 'create', '-f', file('cluster.yaml', CLUSTER_YAML), '--json');
    assert.equal(made.status, 0, made.stderr);
    const { lease } = JSON.parse(made.stdout);
    assert.deepEqual(lease.spec.roles.map((r: { name: string; count: number }) => [r.name, r.count]), [['head', 1], ['worker', 2]]);
    let shown = '';
    await waitFor(`lease ${lease.id} to run its three VMs`, () => (shown = vws(config, 'lease', 'show', lease.id).stdout).split('\n').filter((l) => / running /.test(l)).length === 3, { everyMs: 100, seen: () => shown });
    assert.match(shown, /^asked\s+a cluster of 3 VMs in 2 roles for 1h/m);
    assert.match(shown, /^role head\s+1 x \(1 CPU, 512 MiB\), image -, on public\+private, provides nfs-export, requires -$/m);
    assert.match(shown, /^role worker\s+2 x \(0\.5 CPU, 256 MiB\), image -, on private, provides -, requires head\.ip head\.host-key head\.nfs-export$/m);
    assert.match(shown, /^INDEX\s+ROLE\s+HOSTNAME\s+NODE/m);
    for (const [i, role, host] of [[0, 'head/0', 'head-0'], [1, 'worker/0', 'worker-0'], [2, 'worker/1', 'worker-1']]) {
      assert.match(shown, new RegExp(`^${i}\\s+${role}\\s+${lease.id}-${host}\\s`, 'm'));
    }
  });

  test('quote -f answers for the file, and options replace its fields', () => {
    const path = join(dir, 'cluster.yaml');
    const quote = vws(config, 'lease', 'quote', '-f', path, '--json');
    assert.equal(quote.status, 0, quote.stderr);
    assert.equal(JSON.parse(quote.stdout).ok, true, quote.stdout);
    const exact = vws(config, 'lease', 'create', '-f', path, '--kind', 'exact', '--start', '+2h', '--duration', '30m', '--json');
    assert.equal(exact.status, 0, exact.stderr);
    const spec = JSON.parse(exact.stdout).lease.spec;
    assert.deepEqual([spec.kind, spec.duration, spec.roles.length], ['exact', 1800, 2]);
  });

  test('--role makes a cluster without a file, and its syntax errors are usage errors', () => {
    const made = vws(config, 'lease', 'create', '--duration', '1h', '--json',
      '--role', 'head:count=1,cpu=1,memory=512,networks=public+private,provides=nfs-export',
      '--role', 'worker:count=2,cpu=0.5,memory=256,requires=head.ip+head.nfs-export');
    assert.equal(made.status, 0, made.stderr);
    assert.deepEqual(JSON.parse(made.stdout).lease.spec.roles.map((r: { name: string; networks: string[]; requires: string[] }) => [r.name, r.networks, r.requires]),
      [['head', ['public', 'private'], []], ['worker', ['private'], ['head.ip', 'head.nfs-export']]]);
    const cases: Array<[string[], RegExp]> = [
      [['--role', 'worker:count=2,cpu=1,mem=512'], /unknown key 'mem'; the keys are count, cpu, memory/],
      [['--role', 'count=2,cpu=1,memory=512'], /start with the role's name and a colon/],
      [['--role', 'w:count=two,cpu=1,memory=512'], /--role w count must be a whole number >= 1, got 'two'/],
      [['--role', 'w:cpu=1,memory=512'], /add count=\.\.\./],
      [['--role', 'w:count=1,count=2,cpu=1,memory=1'], /count is given twice/],
    ];
    for (const [argv, message] of cases) {
      const r = vws(config, 'lease', 'create', '--duration', '1h', ...argv);
      assert.equal(r.status, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, argv.join(' '));
    }
    // The server's reason for roles that do not make a cluster reaches the person as it is.
    const unmet = vws(config, 'lease', 'create', '--duration', '1h', '--role', 'worker:count=2,cpu=1,memory=512,requires=head.ip');
    assert.equal(unmet.status, 1);
    assert.match(unmet.stderr, /role 'worker' requires 'head\.ip', but the cluster has no role 'head' .*\(invalid-request\)/);
  });

  test('a bad file names the file, the line and the field', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['count as text', CLUSTER_YAML.replace('count: 2', 'count: "2"'), /^ {2}in .*bad\.yaml line 13: roles\[1\]\.count$/m],
      ['an unknown field', CLUSTER_YAML.replace('    cpu: 0.5', '    cpu: 0.5\n    colour: blue'), /^ {2}in .*bad\.yaml line 15: roles\[1\]\.colour$/m],
      ['a requirement nobody provides', CLUSTER_YAML.replace('provides: [nfs-export]', 'provides: []'), /^ {2}in .*bad\.yaml line 4: roles$/m],
      ['a role name with a capital', CLUSTER_YAML.replace('name: head', 'name: Head'), /^ {2}in .*bad\.yaml line 5: roles\[0\]\.name$/m],
    ];
    for (const [what, text, where] of cases) {
      const r = vws(config, 'lease', 'create', '-f', file('bad.yaml', text));
      assert.equal(r.status, 1, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /\(invalid-request\)/, what);
      assert.match(r.stderr, where, `${what}: ${r.stderr}`);
    }
    const syntax = vws(config, 'lease', 'create', '-f', file('broken.yaml', 'kind: best-effort\nroles: [\n  - name: head\n'));
    assert.equal(syntax.status, 1, syntax.stderr);
    assert.match(syntax.stderr, /broken\.yaml line \d+, column \d+: /);
    const twice = vws(config, 'lease', 'create', '-f', file('twice.yaml', 'kind: best-effort\nkind: exact\nduration: 60\n'));
    assert.match(twice.stderr, /twice\.yaml line 2, column 1: Map keys must be unique/);
    const list = vws(config, 'lease', 'create', '-f', file('list.yaml', '- kind: best-effort\n'));
    assert.match(list.stderr, /list\.yaml: must hold one mapping of lease fields/);
    const missing = vws(config, 'lease', 'create', '-f', join(dir, 'no-such.yaml'));
    assert.match(missing.stderr, /no-such\.yaml: cannot read it \(ENOENT\)/);
    const bomb = vws(config, 'lease', 'create', '-f', file('bomb.yaml', `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n`));
    assert.equal(bomb.status, 1, bomb.stderr);
    assert.match(bomb.stderr, /bomb\.yaml: .*alias/i);
    // JSON is YAML: the same file as JSON works too.
    const json = vws(config, 'lease', 'quote', '-f', file('cluster.json', JSON.stringify({ kind: 'best-effort', duration: 60, nodes: 1, cpu: 1, memoryMiB: 64 })), '--json');
    assert.equal(json.status, 0, json.stderr);
  });
});
