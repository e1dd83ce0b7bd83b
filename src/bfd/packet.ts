// BFD control packets (RFC 5880 section 4.1) without authentication: encode, and decode with the
// reception checks of section 6.8.6 that need no session. Decoding never throws: a malformed
// packet comes back as a drop reason, which the endpoint counts.

export const BFD_PORT = 3784;
/** RFC 5881 section 4: source ports of single-hop control packets. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;
const LENGTH = 24;

/** bfd.SessionState; the index is the wire value. */
export const STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BfdState = (typeof STATES)[number];

/** Diagnostic codes (section 4.1) this implementation sets. */
export const DIAG = { none: 0, detectionTimeExpired: 1, neighborSignaledDown: 3, adminDown: 7 } as const;
/** Every code's text, as keepalived logs it. */
export const DIAG_TEXT = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
] as const;

export interface ControlPacket {
  diag: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** Control Plane Independent. */
  cpi: boolean;
  demand: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Microseconds, as on the wire. */
  desiredMinTx: number;
  requiredMinRx: number;
  requiredMinEchoRx: number;
}

export type BfdDropReason = 'length' | 'version' | 'detect-mult' | 'multipoint' | 'my-discriminator' | 'your-discriminator' | 'auth';

export function encodeControl(p: ControlPacket): Buffer {
  const b = Buffer.alloc(LENGTH);
  b[0] = (1 << 5) | (p.diag & 0x1f);
  b[1] = (STATES.indexOf(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) | (p.demand ? 0x02 : 0);
  b[2] = p.detectMult;
  b[3] = LENGTH;
  b.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTx >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRx >>> 0, 16);
  b.writeUInt32BE(p.requiredMinEchoRx >>> 0, 20);
  return b;
}

/** The packet, or why it must be discarded (RFC 5880 6.8.6, the checks before session lookup). */
export function decodeControl(b: Uint8Array): ControlPacket | { drop: BfdDropReason } {
  if (b.length < LENGTH) return { drop: 'length' };
  if (b[0] >> 5 !== 1) return { drop: 'version' };
  const length = b[3];
  const auth = (b[1] & 0x04) !== 0;
  if (length < (auth ? 26 : LENGTH) || length > b.length) return { drop: 'length' };
  // Authentication is not configurable in keepalived's bfd_instance: a packet that asks for it
  // belongs to a session we cannot have.
  if (auth) return { drop: 'auth' };
  const detectMult = b[2];
  if (detectMult === 0) return { drop: 'detect-mult' };
  if (b[1] & 0x01) return { drop: 'multipoint' };
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const myDiscriminator = v.getUint32(4);
  if (myDiscriminator === 0) return { drop: 'my-discriminator' };
  const yourDiscriminator = v.getUint32(8);
  const state = STATES[b[1] >> 6];
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') return { drop: 'your-discriminator' };
  return {
    diag: b[0] & 0x1f,
    state,
    poll: (b[1] & 0x20) !== 0,
    final: (b[1] & 0x10) !== 0,
    cpi: (b[1] & 0x08) !== 0,
    demand: (b[1] & 0x02) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTx: v.getUint32(12),
    requiredMinRx: v.getUint32(16),
    requiredMinEchoRx: v.getUint32(20),
  };
}
