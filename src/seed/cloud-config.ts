// vws's own #cloud-config part of a workspace's user-data: the hostname, the owner's ssh keys, and
// (when a context broker is wired) the context agent's configuration and secret, written for root
// alone, with a systemd unit that fetches the agent from the service and keeps it running. Only
// modules Debian's cloud-init runs by default are used, so a stock image needs nothing of vws.

import { agentConfigText } from './agent-config.ts';
import type { SeedBroker, SeedInput } from './seed-input.ts';
import { type YamlValue, yamlDocument } from './yaml.ts';

export const CONTEXT_DIR = '/etc/vws';
export const CONTEXT_CONFIG = `${CONTEXT_DIR}/context-agent.json`;
export const CONTEXT_AGENT = '/usr/local/lib/vws/context-agent';
export const CONTEXT_UNIT = 'vws-context-agent.service';

/**
 * Fetches the agent to argv[2] (checking its sha256 against argv[3] when that is not empty) with a
 * few retries while the network settles. URL, path and hash come as arguments, never inside the
 * program, so that nothing a service was configured with is read as code.
 */
const FETCH_AGENT = [
  'import hashlib, os, sys, time, urllib.request',
  'url, dest, want = sys.argv[1], sys.argv[2], sys.argv[3]',
  'for attempt in range(10):',
  '    try:',
  '        data = urllib.request.urlopen(url, timeout=30).read()',
  '        break',
  '    except OSError as e:',
  '        if attempt == 9: sys.exit("vws: could not fetch the context agent from %s: %s" % (url, e))',
  '        time.sleep(3)',
  'if want and hashlib.sha256(data).hexdigest() != want: sys.exit("vws: the context agent from %s is not the one the service named (sha256)" % url)',
  'os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)',
  'with open(dest + ".tmp", "wb") as f: f.write(data)',
  'os.chmod(dest + ".tmp", 0o700)',
  'os.replace(dest + ".tmp", dest)',
].join('\n');

/** Where the lease's own user-data may write the entries its role provides (a JSON object), for the agent to report. */
export const CONTEXT_ENTRIES = `${CONTEXT_DIR}/entries.json`;

/**
 * What the context agent reads at start, in its own format (seed/agent-config.ts): where the
 * service is, which lease and member this VM is, its secret, its host name and the key the
 * service signs with.
 */
export function contextAgentConfig(input: Pick<SeedInput, 'workspaceId' | 'hostname'>, broker: SeedBroker): string {
  return agentConfigText({
    server: broker.serviceUrl, lease: input.workspaceId.slice(0, input.workspaceId.lastIndexOf('/')), member: broker.member ?? input.workspaceId,
    secret: broker.secret, hostname: input.hostname, publicKey: broker.publicKey, entriesFile: CONTEXT_ENTRIES,
    ...(broker.provides && broker.provides.length > 0 ? { provides: [...broker.provides] } : {}),
  });
}

const unit = (): string => [
  '[Unit]',
  'Description=vws context agent: delivers this VM\'s context from the vws service',
  'After=network-online.target',
  'Wants=network-online.target',
  '',
  '[Service]',
  `ExecStart=/usr/bin/python3 ${CONTEXT_AGENT} --config ${CONTEXT_CONFIG}`,
  'Restart=on-failure',
  'RestartSec=5',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
  '',
].join('\n');

function sshPart(input: SeedInput): Record<string, YamlValue> {
  const keys = input.sshKeys ?? [];
  if (keys.length === 0) return {};
  const user = input.sshUser ?? 'root';
  // root gets the keys through the ssh module (disable_root false: without the "login as" stub).
  if (user === 'root') return { disable_root: false, ssh_authorized_keys: keys };
  return { users: ['default', { name: user, shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: keys }] };
}

function brokerPart(input: SeedInput): Record<string, YamlValue> {
  const broker = input.broker;
  if (!broker) return {};
  return {
    write_files: [
      { path: CONTEXT_CONFIG, owner: 'root:root', permissions: '0600', content: contextAgentConfig(input, broker) },
      { path: `/etc/systemd/system/${CONTEXT_UNIT}`, owner: 'root:root', permissions: '0644', content: unit() },
    ],
    runcmd: [
      ['chmod', '0700', CONTEXT_DIR],
      ['python3', '-c', FETCH_AGENT, broker.agentUrl, CONTEXT_AGENT, broker.agentSha256 ?? ''],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', '--no-block', CONTEXT_UNIT],
    ],
  };
}

/** vws's #cloud-config document for one workspace (its input already checked by seedInputProblem). */
export function vwsCloudConfig(input: SeedInput): string {
  const fqdn = input.domain ? `${input.hostname}.${input.domain}` : input.hostname;
  const doc: Record<string, YamlValue> = {
    hostname: input.hostname,
    fqdn,
    // Only the host's own line (127.0.1.1): the context agent writes the cluster's members into
    // /etc/hosts, and `true` would have cloud-init rewrite the whole file at every boot.
    manage_etc_hosts: 'localhost',
    ...sshPart(input),
    ...brokerPart(input),
  };
  return `#cloud-config\n${yamlDocument(doc)}`;
}
