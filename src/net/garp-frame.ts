// The gratuitous ARP frame keepalived sends (vrrp_arp.c send_gratuitous_arp_immediate): an
// Ethernet broadcast carrying an ARP request whose sender and target protocol addresses are both
// the VIP, the sender hardware address the interface's MAC (a VMAC interface's own MAC on one),
// and the target hardware address the broadcast address.
import { addressBytes } from '../core/address.js';

export const ETHERTYPE_ARP = 0x0806;
export const GARP_FRAME_LENGTH = 42;
const BROADCAST = Buffer.alloc(6, 0xff);

/** "aa:bb:cc:dd:ee:ff" as 6 bytes, or undefined when it is not an Ethernet MAC. */
export function parseMac(text: string): Buffer | undefined {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text.trim());
  return m ? Buffer.from(m.slice(1).map((h) => parseInt(h, 16))) : undefined;
}

/** The 42-byte frame announcing `ipv4` at `mac`. */
export function garpFrame(mac: Buffer, ipv4: string): Buffer {
  const ip = addressBytes(ipv4);
  const f = Buffer.alloc(GARP_FRAME_LENGTH);
  BROADCAST.copy(f, 0); // destination
  mac.copy(f, 6); // source
  f.writeUInt16BE(ETHERTYPE_ARP, 12);
  f.writeUInt16BE(1, 14); // hardware type: Ethernet
  f.writeUInt16BE(0x0800, 16); // protocol type: IPv4
  f[18] = 6; // hardware address length
  f[19] = 4; // protocol address length
  f.writeUInt16BE(1, 20); // ARPOP_REQUEST
  mac.copy(f, 22); // sender hardware address
  ip.copy(f, 28); // sender protocol address
  BROADCAST.copy(f, 32); // target hardware address: keepalived writes the broadcast address
  ip.copy(f, 38); // target protocol address
  return f;
}
