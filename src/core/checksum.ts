// The Internet checksum (RFC 1071), shared by the VRRP codec and the ICMP echo of PING_CHECK.
/** Internet checksum (RFC 1071) over the given buffers, as if concatenated. */
export function inetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const b of parts) {
    let i = 0;
    if (odd !== undefined && b.length) {
      sum += (odd << 8) | b[0];
      odd = undefined;
      i = 1;
    }
    for (; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
    if (i < b.length) odd = b[i];
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
