// The bridge and the VMs' tap devices, made with iproute2. Each function leaves the link in the
// state it names whatever state it found it in, so an agent restarted half-way can simply redo it.
import { createHash } from 'node:crypto';
import { bridgeMac, checkIfname, type Subnet } from './addresses.ts';
import { CommandFailed, type Commands } from './commands.ts';

/** Prefix of the taps tapName makes; tearDown also removes strays with it that lost their bridge. */
export const TAP_PREFIX = 'vwt';

/** A stable interface name for a VM's tap: a VM id is too long and has characters ifnames refuse. */
export function tapName(vmId: string): string {
  // 40 bits of the hash: collisions are negligible among the VMs one node ever holds at once.
  return TAP_PREFIX + createHash('sha256').update(vmId).digest('hex').slice(0, 10);
}

export interface Link {
  ifname: string;
  /** 'bridge', 'tun', 'veth', ... from `ip -d`; undefined for plain devices. */
  kind?: string;
  /** For 'tun': 'tap' or 'tun'. */
  tunType?: string;
  master?: string;
  up: boolean;
  address?: string;
}

interface IpLinkJson {
  ifname: string;
  flags?: string[];
  master?: string;
  address?: string;
  linkinfo?: { info_kind?: string; info_data?: { type?: string } };
}

export async function listLinks(cmds: Commands): Promise<Link[]> {
  const out = await cmds.ip(['-j', '-d', 'link', 'show']);
  const links = JSON.parse(out || '[]') as IpLinkJson[];
  return links.map((l) => ({
    ifname: l.ifname,
    kind: l.linkinfo?.info_kind,
    tunType: l.linkinfo?.info_data?.type,
    master: l.master,
    up: l.flags?.includes('UP') ?? false,
    address: l.address,
  }));
}

export async function findLink(cmds: Commands, name: string): Promise<Link | undefined> {
  return (await listLinks(cmds)).find((l) => l.ifname === name);
}

export function isTap(link: Link): boolean {
  return link.kind === 'tun' && link.tunType === 'tap';
}

/** The bridge, with the gateway address and up; created if missing. */
export async function ensureBridge(cmds: Commands, name: string, subnet: Subnet, secondary?: string): Promise<void> {
  checkIfname(name, 'bridge');
  const existing = await findLink(cmds, name);
  if (existing && existing.kind !== 'bridge') {
    throw new Error(`${name} exists but is ${existing.kind ? `a ${existing.kind} device` : 'not a bridge'}: configure another bridge name or remove ${name}`);
  }
  if (!existing) {
    await cmds.ip(['link', 'add', 'name', name, 'address', bridgeMac(name), 'type', 'bridge', 'stp_state', '0']);
  }
  // replace, not add: a second open() must not fail on the address the first one set. The gateway
  // first: the first address of a subnet on a device is its primary, the one dnsmasq answers from.
  await cmds.ip(['addr', 'replace', `${subnet.gateway}/${subnet.prefix}`, 'dev', name]);
  if (secondary !== undefined) await cmds.ip(['addr', 'replace', `${secondary}/${subnet.prefix}`, 'dev', name]);
  // The bridge is the agent's alone: an address from an earlier configuration would route part of
  // the old subnet to it.
  const [info] = JSON.parse((await cmds.ip(['-j', 'addr', 'show', 'dev', name])) || '[]') as Array<{ addr_info?: Array<{ family: string; local: string; prefixlen: number }> }>;
  for (const a of info?.addr_info ?? []) {
    if (a.family === 'inet' && a.prefixlen === subnet.prefix && (a.local === subnet.gateway || a.local === secondary)) continue;
    if (a.family === 'inet') await cmds.ip(['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', name]);
  }
  await cmds.ip(['link', 'set', 'dev', name, 'up']);
}

/** A persistent tap that QEMU opens by name, enslaved to the bridge and up. */
export async function ensureTap(cmds: Commands, name: string, bridge: string): Promise<void> {
  checkIfname(name, 'tap');
  const existing = await findLink(cmds, name);
  if (existing && !isTap(existing)) {
    throw new Error(`${name} exists but is ${existing.kind ? `a ${existing.kind} device` : 'not a tap'}: refusing to enslave it to ${bridge}`);
  }
  if (!existing) await cmds.ip(['tuntap', 'add', 'dev', name, 'mode', 'tap']);
  await cmds.ip(['link', 'set', 'dev', name, 'master', bridge, 'up']);
}

/** Deletes a link if it exists; a missing link is already what the caller wants. */
export async function deleteLink(cmds: Commands, name: string): Promise<void> {
  try {
    // `ip link del` rather than `ip tuntap del`: it removes a tap even while a QEMU still holds it open.
    await cmds.ip(['link', 'del', 'dev', name]);
  } catch (e) {
    if (e instanceof CommandFailed && /Cannot find device|does not exist/.test(e.stderr)) return;
    throw e;
  }
}
