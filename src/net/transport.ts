// The VRRP engine's I/O edge. The engine is pure (packets and timers in, packets and actions out);
// a transport moves VRRP messages between it and one interface. src/net/raw-transport.ts is the
// real one (raw IPv4 socket, protocol 112); tests can supply their own.

/** One VRRP packet as it arrived, its IPv4 header already checked and stripped. */
export interface ReceivedPacket {
  /** IP source address (the sender's primary address, or its unicast_src_ip). */
  src: string;
  /** IP destination: the VRRP group (224.0.0.18) or our own address for unicast. */
  dst: string;
  /** IP TTL / hop limit as received (RFC 3768/5798 §7.1: must be 255 for multicast); IPv6: 255,
   * 0 for "not 255" (a filter cut the packet), or -1 for unicast, where it is not known. */
  ttl: number;
  /** The VRRP message (IP payload), trimmed to the IP total length; a copy the receiver may keep. */
  payload: Buffer;
  /** The interface it came in on. */
  ifname: string;
  /** IPv6: the kernel verified the pseudo-header checksum (IPV6_CHECKSUM), dst is not known for unicast. */
  checksumChecked?: boolean;
  /** IP protocol: 112, or 51 for keepalived's AH-wrapped adverts (payload = AH header + VRRP). */
  protocol?: number;
  /** Protocol 51 only: a copy of the IPv4 header, which the AH ICV covers. */
  header?: Buffer;
}

export interface TransportStats {
  /** Packets handed to the kernel successfully. */
  sent: number;
  /** Packets delivered to onPacket callbacks (well-formed IPv4, protocol 112). */
  received: number;
  /** Sends the kernel refused (ENETUNREACH, EPERM...) or attempted after close(). */
  sendErrors: number;
  /** Packets read but not delivered, by DropReason id of decodeIpv4 ('ip-header-invalid', 'length', 'not-vrrp'). */
  dropped: Record<string, number>;
}

export interface SendOptions {
  src: string;
  dst: string;
  ttl?: number;
  reply?: boolean;
  /** IP protocol 51: the payload is an AH header and VRRP message (the AH transport's only). */
  protocol?: number;
  /** IP identification to write (AH covers it; 0 or unset: the kernel picks one). */
  id?: number;
}

export interface VrrpTransport {
  /**
   * Send a VRRP message (the IP payload) to dst (multicast group or unicast peer) from src.
   * `reply` marks an immediate answer to a received advert: scheduled adverts go first.
   */
  send(payload: Buffer, opts: SendOptions): void;
  onPacket(cb: (p: ReceivedPacket) => void): void;
  /** Counted and dropped: packets that are not well-formed IPv4 (decodeIpv4 reasons). */
  readonly stats: TransportStats;
  close(): void;
}
