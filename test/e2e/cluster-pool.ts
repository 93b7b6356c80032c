// The pieces of a virtual cluster run with real VMs, shared by the end-to-end test and its bench:
// `vws serve --driver qemu` with cluster networks, two `vws agent` processes whose bridges, cluster
// networks (a bridge per node joined by VXLAN over the veth between them) and QEMU processes live
// in two network namespaces of the caller's own, the Debian guest (stock cloud-init) and the busybox
// guest registered as images, an owner's ssh key, and ssh into members from the node they run on.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestGuest } from '../../guest/build.ts';
import { buildDebianGuest } from '../../guest/debian.ts';
import { BOOTSTRAP_TOKEN, freePort, type RealServer, startServer, vws } from '../cli/client/real-server.ts';
import { inNetns, killAllIn, twoNodeFabric, type TwoNodeFabric } from '../support/netns.ts';
import { type AgentProcess, api, qemuPids, taps, vmLeftovers, startAgent } from './qemu-pool.ts';

export const MINUTE = 60_000;
export const NODES = ['node-a', 'node-b'] as const;
export type Node = (typeof NODES)[number];
/** The cluster subnets' range given to vws serve: a member's private address is in it. */
export const CLUSTER_RANGE_PREFIX = '10.203.';

export interface MemberView {
  index: number; node: string | null; status: string; ip: string | null; role: string | null; hostname: string;
  context?: { state: string; reason: string | null; waitsFor: string[] };
}
export interface ClusterView {
  id: string; status: string; nodes: string[]; plannedStart: number | null; plannedEnd: number | null;
  reason: { code: string; message: string } | null; workspaces?: MemberView[];
  context?: { status: string; reason: string | null };
}

const SSH_OPTIONS = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=15', '-o', 'LogLevel=ERROR'];

export class ClusterPool {
  readonly call: ReturnType<typeof api>;
  readonly ownerKey: string;

  private constructor(
    readonly dir: string, private readonly fabric: TwoNodeFabric, readonly server: RealServer,
    private readonly config: string, readonly agents: Record<Node, AgentProcess>, readonly agentData: Record<Node, string>,
  ) {
    this.call = api(server.url, BOOTSTRAP_TOKEN);
    this.ownerKey = readFileSync(join(dir, 'owner.pub'), 'utf8').trim();
  }

  /** Two nodes of `cpu` CPUs and `memoryMiB` each, both joined, both guests registered (debian, busybox). */
  static async start(tag: string, cpu: number, memoryMiB: number): Promise<ClusterPool> {
    const guest = await buildDebianGuest();
    const busybox = buildTestGuest();
    const dir = mkdtempSync(join(tmpdir(), `vws-${tag}-`));
    // dnsmasq runs as nobody and must reach its hosts files under the agents' data directories.
    chmodSync(dir, 0o755);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'owner@vws-test', '-f', join(dir, 'owner')]);
    const fabric = twoNodeFabric(tag);
    let pool: ClusterPool | undefined;
    const agents = {} as Record<Node, AgentProcess>;
    let server: RealServer | undefined;
    try {
      server = await startServer(join(dir, 'service'), await freePort(), ['--driver', 'qemu', '--vm-network', '10.79.0.0/24', '--cluster-network', `${CLUSTER_RANGE_PREFIX}0.0/16`]);
      const config = join(dir, 'client', 'config.json');
      if (vws(config, 'login', '--server', `${server.url}/v1`, '--token', BOOTSTRAP_TOKEN).status !== 0) throw new Error('vws login failed');
      const agentData = { 'node-a': join(dir, 'agent-a'), 'node-b': join(dir, 'agent-b') };
      for (const [i, name] of NODES.entries()) {
        mkdirSync(agentData[name], { recursive: true, mode: 0o755 });
        agents[name] = startAgent({
          name, server: server.url, token: BOOTSTRAP_TOKEN, data: agentData[name], netns: fabric.namespaces[i], migrationAddress: fabric.addresses[i],
          cpu, memoryMiB, underlay: fabric.addresses[i],
        });
      }
      pool = new ClusterPool(dir, fabric, server, config, agents, agentData);
      for (const name of NODES) {
        const end = Date.now() + MINUTE;
        while (!(await pool.call.get<{ nodes: Array<{ id: string }> }>('/v1/nodes')).nodes.some((n) => n.id === name)) {
          if (Date.now() > end) throw new Error(`${name} never joined\n${pool.logs()}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      pool.cli('image', 'add', 'debian-kernel', '--file', guest.kernel);
      pool.cli('image', 'add', 'debian-initrd', '--file', guest.initrd);
      pool.cli('image', 'add', 'debian', '--file', guest.disk, '--kernel', 'debian-kernel', '--initrd', 'debian-initrd', '--cmdline', guest.cmdline);
      pool.cli('image', 'add', 'busybox-kernel', '--file', busybox.kernel);
      pool.cli('image', 'add', 'busybox-initrd', '--file', busybox.initrd);
      pool.cli('image', 'add', 'busybox', '--file', busybox.disk, '--kernel', 'busybox-kernel', '--initrd', 'busybox-initrd', '--cmdline', busybox.cmdline);
      return pool;
    } catch (e) {
      if (pool) await pool.close();
      else {
        for (const a of Object.values(agents)) await a.kill();
        await server?.kill();
        for (const ns of fabric.namespaces) await killAllIn(ns);
        fabric.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
      throw e;
    }
  }

  netnsOf(node: string): string {
    return this.fabric.namespaces[NODES.indexOf(node as Node)];
  }

  /** `vws ... --json`, which must succeed. */
  cli(...args: string[]): Record<string, unknown> {
    const r = vws(this.config, ...args, '--json');
    if (r.status !== 0) throw new Error(`vws ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** `vws ...` as it exits. */
  vws(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    return vws(this.config, ...args);
  }

  lease(id: string): Promise<ClusterView> {
    return this.call.get<ClusterView>(`/v1/leases/${encodeURIComponent(id)}`);
  }

  /** Polls the lease until `ok`; the limit only guards against a hang. */
  async leaseUntil(id: string, what: string, ok: (l: ClusterView) => boolean, deadlineMs: number): Promise<ClusterView> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const last = await this.lease(id).catch((e: Error) => {
        throw new Error(`asking for lease ${id}: ${e.message} (${String((e.cause as Error | undefined)?.message ?? '')})\n${this.logs()}`, { cause: e });
      });
      if (ok(last)) return last;
      if (Date.now() > end) throw new Error(`lease ${id} never ${what}; last seen ${JSON.stringify(last)}\n${this.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  logs(): string {
    return `service:\n${this.server.output().slice(-6000)}\nagent a:\n${this.agents['node-a'].output().slice(-4000)}\nagent b:\n${this.agents['node-b'].output().slice(-4000)}`;
  }

  /** A command on a member with a public address, over ssh from the node it runs on, with the owner's key. */
  onPublic(member: MemberView, command: string): string {
    return inNetns(this.netnsOf(member.node!), ['ssh', '-i', join(this.dir, 'owner'), ...SSH_OPTIONS, `root@${member.ip}`, command], 90_000);
  }

  /** A command on a private-only member: through `jump` (a member with a public address), over the cluster's private network. */
  onPrivate(jump: MemberView, member: MemberView, command: string): string {
    const proxy = ['ssh', '-i', join(this.dir, 'owner'), ...SSH_OPTIONS, '-W', '%h:%p', `root@${jump.ip}`].join(' ');
    return inNetns(this.netnsOf(jump.node!), ['ssh', '-i', join(this.dir, 'owner'), ...SSH_OPTIONS, '-o', `ProxyCommand=${proxy}`, `root@${member.ip}`, command], 90_000);
  }

  qemuPids(): number[] {
    return NODES.flatMap((node) => qemuPids(this.netnsOf(node)));
  }

  /** QEMU processes, taps, VM files and cluster network links still on the nodes. */
  leftovers(): string[] {
    return NODES.flatMap((name) => [
      ...qemuPids(this.netnsOf(name)).map((pid) => `${name}: QEMU ${pid}`),
      ...taps(this.netnsOf(name)).map((tap) => `${name}: tap ${tap}`),
      ...vmLeftovers(this.agentData[name]).map((file) => `${name}: vms/${file}`),
      ...execFileSync('ip', ['-n', this.netnsOf(name), '-o', 'link', 'show'], { encoding: 'utf8' }).split('\n')
        .map((l) => /^\d+: (vw[cxp][0-9a-f]+)[:@]/.exec(l)?.[1]).filter((l): l is string => l !== undefined).map((l) => `${name}: link ${l}`),
    ]);
  }

  /** Each node's cluster bridges' and VXLAN ports' forwarding entries and links: what a failed reachability check is read against. */
  networkState(): string {
    return NODES.map((name) => {
      const run = (args: string[]): string => {
        try {
          return execFileSync('ip', ['netns', 'exec', this.netnsOf(name), ...args], { encoding: 'utf8' });
        } catch (e) {
          return (e as Error).message;
        }
      };
      return [`== ${name}`, run(['ip', '-br', 'link']), run(['ip', '-br', 'addr']), run(['bridge', 'fdb', 'show']), run(['nft', 'list', 'ruleset'])].join('\n');
    }).join('\n');
  }

  async close(): Promise<void> {
    for (const a of Object.values(this.agents)) await a.kill();
    await this.server.kill();
    // Deleting a namespace does not end its processes: the agents' dnsmasq and QEMU must be killed first.
    for (const ns of this.fabric.namespaces) await killAllIn(ns);
    this.fabric.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls a command until it succeeds (a guest's sshd, a mount coming up); the limit only guards against a hang. */
export async function eventually<T>(what: string, probe: () => T, deadlineMs = 3 * MINUTE): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      return probe();
    } catch (e) {
      if (Date.now() > end) throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export const membersOf = (l: ClusterView, role: string): MemberView[] => (l.workspaces ?? []).filter((w) => w.role === role);

/**
 * The lease's own user-data, the same for every member: the head exports /srv/shared over NFS and
 * provides it as `nfs-export` once it is exported (its context agent waits for that); a hook runs
 * on every member once its context is applied, and on workers mounts the head's export (from the
 * context: head.ip and head.nfs-export) and leaves a file named after the worker in it.
 */
export const NFS_CLUSTER_USER_DATA = `#cloud-config
write_files:
  - path: /etc/vws/context.d/50-shared
    permissions: '0755'
    content: |
      #!/usr/bin/env python3
      import json, os, socket, subprocess, time
      c = json.load(open(os.environ["VWS_CONTEXT"]))
      if c["role"] != "worker":
          raise SystemExit(0)
      source = c["entries"]["head.ip"][0]["value"] + ":" + c["entries"]["head.nfs-export"][0]["value"]
      os.makedirs("/mnt/shared", exist_ok=True)
      for attempt in range(30):
          # retry=0: one try per attempt, so that this loop (not mount's own two minutes) bounds it.
          r = subprocess.run(["mount", "-t", "nfs4", "-o", "hard,timeo=100,retry=0", source, "/mnt/shared"], capture_output=True, text=True)
          if r.returncode == 0:
              break
          time.sleep(2)
      else:
          raise SystemExit("could not mount %s: %s" % (source, r.stderr.strip()))
      with open("/mnt/shared/" + socket.gethostname(), "w") as f:
          f.write(c["member"] + "\\n")
runcmd:
  - - sh
    - -c
    - |
      case "$(hostname)" in *-head-*)
        mkdir -p /srv/shared && chmod 1777 /srv/shared
        echo "/srv/shared *(rw,sync,no_subtree_check,no_root_squash)" > /etc/exports
        # NFSv4's grace period (90 s by default) holds every client's first open after a server
        # start; a test cluster has no state to recover, so a short one (the lease stays 90 s: members
        # resumed a little apart must not find their state expired).
        systemctl stop nfs-kernel-server
        mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
        echo 10 > /proc/fs/nfsd/nfsv4gracetime
        systemctl start nfs-kernel-server && exportfs -ra
        echo '{"nfs-export": "/srv/shared"}' > /etc/vws/entries.json.tmp && mv /etc/vws/entries.json.tmp /etc/vws/entries.json
      esac
`;

/** A cluster lease body (YAML, for vws lease create -f) of one head (public + private) providing its NFS export and `workers` workers (private only) requiring it. */
export function nfsClusterYaml(ownerKey: string, workers = 2): string {
  return [
    'kind: best-effort',
    'duration: 7200',
    'roles:',
    '  - {name: head, count: 1, cpu: 1, memoryMiB: 384, image: debian, networks: [public, private], provides: [nfs-export], requires: []}',
    `  - {name: worker, count: ${workers}, cpu: 1, memoryMiB: 320, image: debian, networks: [private], provides: [], requires: [head.ip, head.nfs-export, head.host-key]}`,
    `sshPublicKeys: [${JSON.stringify(ownerKey)}]`,
    `userData: ${JSON.stringify(NFS_CLUSTER_USER_DATA)}`,
    '',
  ].join('\n');
}
