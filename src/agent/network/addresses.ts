// IPv4 and MAC address checks for the node network. Everything the service hands the agent is
// checked here, before it reaches a command line or dnsmasq's hosts file, so that a bad value fails
// with a message naming it instead of as a confusing dnsmasq or `ip` error later.
import { createHash } from 'node:crypto';

/** A value as an error message shows it: JSON, cut short (it may be anything a peer sent). */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

export function parseIpv4(text: string, what = 'address'): number {
  if (typeof text !== 'string') throw new Error(`${what} ${shown(text)} is not an IPv4 address like 10.77.0.5`);
  const parts = text.split('.');
  const octets = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : NaN));
  if (octets.length !== 4 || octets.some((o) => !(o <= 255))) throw new Error(`${what} ${shown(text)} is not an IPv4 address like 10.77.0.5`);
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The bridge's subnet: the gateway is the bridge's own address, guests get the others. */
export class Subnet {
  readonly network: number;
  readonly broadcast: number;
  readonly gatewayAddress: number;

  constructor(
    readonly gateway: string,
    readonly prefix: number,
  ) {
    // /31 and /32 leave no address for a guest besides the gateway.
    if (!Number.isInteger(prefix) || prefix < 8 || prefix > 30) throw new Error(`prefix ${prefix} must be an integer from 8 to 30`);
    this.gatewayAddress = parseIpv4(gateway, 'gateway');
    const mask = (0xffffffff << (32 - prefix)) >>> 0;
    this.network = (this.gatewayAddress & mask) >>> 0;
    this.broadcast = (this.network | ~mask) >>> 0;
    if (this.gatewayAddress === this.network || this.gatewayAddress === this.broadcast) {
      throw new Error(`gateway ${gateway} is the network or broadcast address of ${this.cidr}: pick a host address such as ${formatIpv4(this.network + 1)}`);
    }
  }

  get netmask(): string {
    return formatIpv4((0xffffffff << (32 - this.prefix)) >>> 0);
  }

  get cidr(): string {
    return `${formatIpv4(this.network)}/${this.prefix}`;
  }

  /** Checks that `ip` can be handed to a guest and returns it in canonical form. */
  guestAddress(ip: string): string {
    const n = parseIpv4(ip, 'guest address');
    if (n < this.network || n > this.broadcast) throw new Error(`guest address ${ip} is outside the bridge subnet ${this.cidr}`);
    if (n === this.network || n === this.broadcast) throw new Error(`guest address ${ip} is the network or broadcast address of ${this.cidr}`);
    if (n === this.gatewayAddress) throw new Error(`guest address ${ip} is the gateway (the bridge's own address)`);
    return formatIpv4(n);
  }
}

/** Lower-case, colon-separated; dnsmasq's lease file writes MACs that way, so they compare as strings. */
export function normalizeMac(mac: string): string {
  if (typeof mac !== 'string') throw new Error(`MAC ${shown(mac)} is not six hex octets like 52:54:00:12:34:56`);
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(mac);
  if (!m) throw new Error(`MAC ${shown(mac)} is not six hex octets like 52:54:00:12:34:56`);
  const octets = m.slice(1).map((o) => o.toLowerCase());
  if (parseInt(octets[0], 16) & 1) throw new Error(`MAC ${mac} is a multicast address: a guest needs a unicast one (even first octet)`);
  return octets.join(':');
}

/** A fixed, locally administered MAC for the bridge, derived from its name. */
export function bridgeMac(bridge: string): string {
  // Without a MAC of its own a Linux bridge takes the lowest of its ports' MACs, so the gateway's MAC
  // would change whenever a tap comes or goes and guests would hold a stale ARP entry for it.
  const bytes = createHash('sha256').update(`vws-bridge:${bridge}`).digest().subarray(0, 5);
  return ['02', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** Linux interface names: at most 15 bytes, no '/', ':' or whitespace. */
export function checkIfname(name: string, what: string): string {
  if (typeof name !== 'string' || !IFNAME.test(name) || name === '.' || name === '..') {
    throw new Error(`${what} name ${shown(name)} is not a valid Linux interface name (1 to 15 of A-Z a-z 0-9 _ . -)`);
  }
  return name;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function checkHostname(hostname: string): string {
  if (typeof hostname !== 'string' || !HOSTNAME.test(hostname)) throw new Error(`hostname ${shown(hostname)} is not a DNS label (letters, digits and inner '-', at most 63)`);
  return hostname;
}
