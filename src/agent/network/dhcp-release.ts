// Ends a guest's lease in dnsmasq by sending the DHCPRELEASE the guest would have sent.
//
// Why: dnsmasq will not give an address named in a dhcp-host entry to a new MAC while an old
// lease still holds it ("not using configured address ... because it is leased to ..."), and a
// SIGHUP does not drop leases. A VM that is destroyed never releases its lease, so without this
// its address could not be reassigned until the lease ran out. Releasing is dnsmasq's own way to
// forget a lease, needs no restart and no extra tool (dnsmasq-utils' dhcp_release does the same).
import { parseIpv4 } from './addresses.ts';
import type { Commands } from './commands.ts';

const BOOTREQUEST = 1;
const HTYPE_ETHERNET = 1;
const MAGIC_COOKIE = [99, 130, 83, 99];
const OPTION_MESSAGE_TYPE = 53;
const DHCPRELEASE = 7;
const OPTION_SERVER_ID = 54;
const OPTION_END = 255;

function ipv4Bytes(ip: string): number[] {
  const n = parseIpv4(ip);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** A DHCPRELEASE from `mac` for `ip` to the server at `server` (RFC 2131 section 4.4.6). */
export function dhcpReleasePacket(mac: string, ip: string, server: string): Buffer {
  const packet = Buffer.alloc(236 + 4 + 3 + 6 + 1);
  packet[0] = BOOTREQUEST;
  packet[1] = HTYPE_ETHERNET;
  packet[2] = 6; // hardware address length
  packet.writeUInt32BE((Math.random() * 0x1_0000_0000) >>> 0, 4); // xid
  Buffer.from(ipv4Bytes(ip)).copy(packet, 12); // ciaddr: the address being released
  Buffer.from(mac.split(':').map((h) => parseInt(h, 16))).copy(packet, 28); // chaddr
  // dnsmasq matches the lease by chaddr when no client id is sent, and ignores a release whose
  // server identifier is not its own address on the interface.
  Buffer.from([...MAGIC_COOKIE, OPTION_MESSAGE_TYPE, 1, DHCPRELEASE, OPTION_SERVER_ID, 4, ...ipv4Bytes(server), OPTION_END]).copy(packet, 236);
  return packet;
}

// Sent by a short-lived node process run through Commands, so that in a test it starts inside the
// namespace and the datagram reaches that namespace's dnsmasq. Sent to the gateway address, the
// kernel delivers it as arriving on the bridge, which is the interface dnsmasq serves.
const SENDER = `
const s = require('node:dgram').createSocket('udp4');
s.send(Buffer.from(process.argv[1], 'hex'), 67, process.argv[2], (e) => { if (e) { console.error(e.message); process.exit(1); } s.close(); });
`;

export async function sendDhcpRelease(cmds: Commands, mac: string, ip: string, server: string): Promise<void> {
  await cmds.exec(process.execPath, ['-e', SENDER, dhcpReleasePacket(mac, ip, server).toString('hex'), server]);
}
