// dnsmasq's --dhcp-hostsfile: one `MAC,IP[,HOSTNAME]` line per guest the service assigned an
// address. The file is the record of those assignments, so an agent restart finds them there.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { normalizeMac } from './addresses.ts';

export interface DhcpHost {
  mac: string;
  ip: string;
  hostname?: string;
}

const HEADER = '# dhcp-host entries managed by the vws agent: edits here are overwritten\n';

export function parseDhcpHosts(text: string): DhcpHost[] {
  const hosts: DhcpHost[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const [mac, ip, hostname] = trimmed.split(',');
    if (!mac || !ip) continue;
    hosts.push(hostname ? { mac: normalizeMac(mac), ip, hostname } : { mac: normalizeMac(mac), ip });
  }
  return hosts;
}

export function formatDhcpHosts(hosts: DhcpHost[]): string {
  return HEADER + hosts.map((h) => [h.mac, h.ip, ...(h.hostname ? [h.hostname] : [])].join(',') + '\n').join('');
}

export function readDhcpHosts(file: string): DhcpHost[] {
  if (!existsSync(file)) return [];
  try {
    return parseDhcpHosts(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} was edited by hand and is no longer valid (${(e as Error).message}): fix or delete the line`, { cause: e });
  }
}

export function writeDhcpHosts(file: string, hosts: DhcpHost[]): void {
  // Renamed into place so dnsmasq never rereads half a file. World-readable because dnsmasq rereads
  // it on SIGHUP after dropping to user nobody.
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, formatDhcpHosts(hosts));
  chmodSync(tmp, 0o644); // whatever the umask
  renameSync(tmp, file);
}
