// The node's DHCP server: one dnsmasq per bridge, a daemon of its own so that it (and the guests'
// leases) outlive the agent. The agent finds it again through its pid file.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Subnet } from './addresses.ts';
import type { Commands } from './commands.ts';
import { commandLine, isRunning, readPid, stopProcess } from './processes.ts';
import { waitUntil } from './wait-until.ts';

export const DNSMASQ = '/usr/sbin/dnsmasq';
/** Long enough not to matter when the agent is down a while, short enough that a dead guest's lease ends. */
export const LEASE_TIME = '1h';
const START_DEADLINE_MS = 10_000;
const RELOAD_DEADLINE_MS = 10_000;

export interface DnsmasqFiles {
  pid: string;
  hosts: string;
  leases: string;
  log: string;
}

export function dnsmasqFiles(dir: string): DnsmasqFiles {
  return { pid: join(dir, 'dnsmasq.pid'), hosts: join(dir, 'dhcp-hosts'), leases: join(dir, 'dnsmasq.leases'), log: join(dir, 'dnsmasq.log') };
}

export function dnsmasqArgs(bridge: string, subnet: Subnet, files: DnsmasqFiles): string[] {
  return [
    // Only what is said here: not /etc/dnsmasq.conf, /etc/hosts or /etc/resolv.conf.
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--port=0', // DHCP only: no DNS server
    `--pid-file=${files.pid}`,
    // bind-interfaces binds the DHCP socket to the bridge alone, so this dnsmasq coexists with any
    // other DHCP server on the host (libvirt's, a system dnsmasq).
    `--interface=${bridge}`,
    '--bind-interfaces',
    '--except-interface=lo',
    // static: DHCP on the subnet, but addresses only for the MACs in the hosts file; an unknown MAC
    // gets nothing.
    `--dhcp-range=${subnet.cidr.split('/')[0]},static,${subnet.netmask},${LEASE_TIME}`,
    `--dhcp-hostsfile=${files.hosts}`,
    `--dhcp-leasefile=${files.leases}`,
    // A guest asking for an address dnsmasq holds no lease for (the lease file was lost, or the
    // address was reassigned) gets its lease or a NAK at once, instead of silence and a timeout.
    '--dhcp-authoritative',
    `--log-facility=${files.log}`,
  ];
}

export interface RunningDnsmasq {
  pid: number;
  args: string[];
}

/** The dnsmasq this state dir's pid file names, if it still runs (a stale pid may be anyone's by now). */
export function findDnsmasq(files: DnsmasqFiles): RunningDnsmasq | undefined {
  const pid = readPid(files.pid);
  if (pid === undefined || !isRunning(pid)) return undefined;
  const cmd = commandLine(pid);
  if (!cmd || !cmd[0].endsWith('dnsmasq') || !cmd.includes(`--pid-file=${files.pid}`)) return undefined;
  return { pid, args: cmd.slice(1) };
}

/** Adopts the dnsmasq already serving this state dir, or starts one; returns its pid. */
export async function ensureDnsmasq(cmds: Commands, args: string[], files: DnsmasqFiles): Promise<number> {
  const running = findDnsmasq(files);
  if (running && sameArgs(running.args, args)) return running.pid;
  // Started with other settings (the agent's configuration changed): restart it. Guests keep their
  // addresses meanwhile and the leases survive in the lease file.
  if (running) await stopDnsmasq(running.pid);
  if (!existsSync(DNSMASQ)) throw new Error(`${DNSMASQ} is missing: install Debian's dnsmasq-base (apt-get install -y dnsmasq-base)`);
  // dnsmasq's parent exits only once the daemon is set up, and with its error otherwise, so this
  // returning means it serves.
  await cmds.exec(DNSMASQ, args);
  const started = await waitUntil(
    () => findDnsmasq(files),
    START_DEADLINE_MS,
    () => new Error(`dnsmasq started but no running dnsmasq is named by ${files.pid}; its log ${files.log} says: ${tail(files.log)}`),
  );
  return started.pid;
}

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function stopDnsmasq(pid: number): Promise<void> {
  return stopProcess(pid, 'dnsmasq');
}

/**
 * Makes dnsmasq reread the hosts file, and waits until its log says it did, so that once this
 * returns the next DHCP request is answered from the new entries.
 */
export async function reloadHosts(pid: number, files: DnsmasqFiles): Promise<void> {
  const from = sizeOf(files.log);
  process.kill(pid, 'SIGHUP');
  const problems: string[] = [];
  await waitUntil(
    () => {
      const text = readFrom(files.log, sizeOf(files.log) < from ? 0 : from); // 0: the log was rotated
      for (const line of text.split('\n')) {
        if (line.includes(`cannot read ${files.hosts}`)) {
          throw new Error(`dnsmasq ${pid} could not reread ${files.hosts}: ${line}. dnsmasq runs as user nobody: the file and every directory above it must be readable by others.`);
        }
        if (line.includes(` of ${files.hosts}`)) problems.push(line);
        if (line.endsWith(`read ${files.hosts}`)) return true;
      }
      return false;
    },
    RELOAD_DEADLINE_MS,
    () => new Error(`dnsmasq ${pid} did not log rereading ${files.hosts} after SIGHUP; is it alive? its log ${files.log} ends: ${tail(files.log)}`),
  );
  if (problems.length > 0) throw new Error(`dnsmasq ${pid} rejected lines of ${files.hosts}: ${problems.join('; ')}`);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const buf = Buffer.alloc(Math.max(0, sizeOf(file) - offset));
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The end of a log, for error messages. */
export function tail(file: string, lines = 5): string {
  const text = readFrom(file, Math.max(0, sizeOf(file) - 4096)).trimEnd();
  return text ? text.split('\n').slice(-lines).join(' | ') : '(empty)';
}
