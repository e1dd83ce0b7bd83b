// The BFD session state machine (RFC 5880 sections 6.2, 6.8.1-6.8.7, asynchronous mode, no echo,
// no demand, no authentication). Pure: step(config, state, event) returns the next state and the
// packets and transitions for the caller to carry out; the caller owns the clock, the socket and
// the randomness (each timer event brings its own draw for the transmit jitter).
import { DIAG, type BfdState, type ControlPacket } from './packet.js';

export interface SessionConfig {
  name: string;
  /** bfd.LocalDiscr: non-zero, unique on this system. */
  localDiscriminator: number;
  /** bfd.DesiredMinTxInterval while Up (keepalived's min_tx), µs. */
  minTxUs: number;
  /** bfd.DesiredMinTxInterval while not Up (idle_tx; RFC 5880 wants at least 1 s), µs. */
  idleTxUs: number;
  /** bfd.RequiredMinRxInterval (min_rx), µs. */
  minRxUs: number;
  /** bfd.DetectMult (multiplier). */
  multiplier: number;
  /** Send nothing until the neighbour has spoken (section 6.1, passive role). */
  passive: boolean;
}

export interface SessionState {
  state: BfdState;
  /** bfd.LocalDiag: why the session last went down. */
  diag: number;
  remoteDiscriminator: number;
  remoteState: BfdState;
  /** The Diag of the neighbour's last packet. */
  remoteDiag: number;
  /** bfd.RemoteMinRxInterval: 1 µs until the neighbour says otherwise (section 6.8.1). */
  remoteMinRxUs: number;
  remoteDesiredMinTxUs: number;
  remoteDetectMult: number;
  /** A Poll Sequence of ours is running: our packets carry P until a packet with F arrives. */
  polling: boolean;
  heard: boolean;
  /** Absolute deadlines on the injected clock, µs. */
  txAt?: number;
  detectAt?: number;
}

export type SessionEvent =
  /** `rand` in [0, 1): the jitter of the next transmission. */
  | { type: 'start'; now: number; rand: number }
  | { type: 'timer'; now: number; rand: number }
  | { type: 'packet'; now: number; rand: number; packet: ControlPacket }
  /** The daemon stops: silent from now on. Like keepalived, no AdminDown is sent: the neighbour
   * sees the silence as a failure (an AdminDown would tell it not to act on it, RFC 5882 3.2). */
  | { type: 'stop'; now: number };

export type SessionAction = { type: 'send'; packet: ControlPacket } | { type: 'transition'; from: BfdState; to: BfdState; diag: number; reason: string };

export interface SessionStep {
  state: SessionState;
  actions: SessionAction[];
}

export function initialSession(): SessionState {
  return {
    state: 'Down',
    diag: DIAG.none,
    remoteDiscriminator: 0,
    remoteState: 'Down',
    remoteDiag: 0,
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    polling: false,
    heard: false,
  };
}

/** The earliest deadline the caller must wake us for. */
export function nextDeadline(s: SessionState): number | undefined {
  if (s.txAt === undefined) return s.detectAt;
  if (s.detectAt === undefined) return s.txAt;
  return Math.min(s.txAt, s.detectAt);
}

/** bfd.DesiredMinTxInterval now. */
export const desiredMinTxUs = (cfg: SessionConfig, s: SessionState): number => (s.state === 'Up' ? cfg.minTxUs : Math.max(cfg.idleTxUs, cfg.minTxUs));

/** Section 6.8.2: the slower of what we want and what the neighbour can take. */
export const txIntervalUs = (cfg: SessionConfig, s: SessionState): number => Math.max(desiredMinTxUs(cfg, s), s.remoteMinRxUs);

/** Section 6.8.4, asynchronous mode: the neighbour's multiplier times the agreed interval. */
export const detectionTimeUs = (cfg: SessionConfig, s: SessionState): number => s.remoteDetectMult * Math.max(cfg.minRxUs, s.remoteDesiredMinTxUs);

/** Section 6.8.7: 75-100% of the interval, 75-90% when the multiplier is 1. */
export function jittered(intervalUs: number, detectMult: number, rand: number): number {
  const span = detectMult === 1 ? 0.15 : 0.25;
  return Math.round(intervalUs * (1 - span * rand));
}

class Stepper {
  readonly actions: SessionAction[] = [];
  readonly s: SessionState;

  constructor(
    readonly cfg: SessionConfig,
    prev: SessionState,
  ) {
    this.s = { ...prev };
  }

  changeState(to: BfdState, diag: number, reason: string): void {
    const from = this.s.state;
    if (from === to) return;
    const txBefore = desiredMinTxUs(this.cfg, this.s);
    this.s.state = to;
    this.s.diag = diag;
    this.actions.push({ type: 'transition', from, to, diag, reason });
    // Section 6.8.3: a change of our timing parameters is announced with a Poll Sequence.
    if (desiredMinTxUs(this.cfg, this.s) !== txBefore && to !== 'AdminDown') this.s.polling = true;
  }

  /** Section 6.8.7: a periodic packet, or an immediate one (a Final, or news of our state). */
  send(final = false): void {
    const { cfg, s } = this;
    // A neighbour that asks for no packets gets none; a passive session waits to be spoken to.
    if (s.remoteMinRxUs === 0 || (cfg.passive && !s.heard)) return;
    this.actions.push({
      type: 'send',
      packet: {
        diag: s.diag,
        state: s.state,
        poll: s.polling && !final,
        final,
        cpi: false,
        demand: false,
        detectMult: cfg.multiplier,
        myDiscriminator: cfg.localDiscriminator,
        yourDiscriminator: s.remoteDiscriminator,
        desiredMinTx: desiredMinTxUs(cfg, s),
        requiredMinRx: cfg.minRxUs,
        requiredMinEchoRx: 0,
      },
    });
  }

  scheduleTx(now: number, rand: number, soonest = false): void {
    const next = now + jittered(txIntervalUs(this.cfg, this.s), this.cfg.multiplier, rand);
    // A faster rate takes effect at once; a slower one after the packet already due.
    this.s.txAt = soonest || this.s.txAt === undefined ? next : Math.min(this.s.txAt, next);
  }
}

export function stepSession(cfg: SessionConfig, prev: SessionState, ev: SessionEvent): SessionStep {
  const st = new Stepper(cfg, prev);
  const s = st.s;
  switch (ev.type) {
    case 'start':
      st.send();
      st.scheduleTx(ev.now, ev.rand, true);
      break;
    case 'timer': {
      if (s.state === 'AdminDown') break;
      if (s.detectAt !== undefined && ev.now >= s.detectAt) {
        s.detectAt = undefined;
        // Section 6.8.1: a neighbour silent for a detection time is forgotten.
        s.remoteDiscriminator = 0;
        if (s.state === 'Init' || s.state === 'Up') {
          st.changeState('Down', DIAG.detectionTimeExpired, `no packet from the neighbour within ${detectionTimeUs(cfg, prev) / 1000} ms`);
          // Back to the idle rate: the neighbour is gone, nothing to poll.
          s.polling = false;
          s.remoteMinRxUs = 1;
          st.send();
        }
      }
      if (s.txAt !== undefined && ev.now >= s.txAt) {
        st.send();
        st.scheduleTx(ev.now, ev.rand, true);
      }
      break;
    }
    case 'packet': {
      const p = ev.packet;
      if (s.state === 'AdminDown') break;
      const firstWord = !s.heard;
      s.heard = true;
      s.remoteDiscriminator = p.myDiscriminator;
      s.remoteState = p.state;
      s.remoteDiag = p.diag;
      s.remoteMinRxUs = p.requiredMinRx;
      s.remoteDesiredMinTxUs = p.desiredMinTx;
      s.remoteDetectMult = p.detectMult;
      if (p.final && s.polling) s.polling = false;
      const before = s.state;
      if (p.state === 'AdminDown') {
        if (s.state !== 'Down') st.changeState('Down', DIAG.neighborSignaledDown, 'the neighbour is administratively down');
      } else if (s.state === 'Down') {
        if (p.state === 'Down') st.changeState('Init', DIAG.none, 'the neighbour is Down and hears nobody');
        else if (p.state === 'Init') st.changeState('Up', DIAG.none, 'the neighbour hears us');
      } else if (s.state === 'Init') {
        if (p.state === 'Init' || p.state === 'Up') st.changeState('Up', DIAG.none, 'the neighbour hears us');
      } else if (p.state === 'Down') {
        st.changeState('Down', DIAG.neighborSignaledDown, 'the neighbour went Down');
      }
      // The neighbour's silence is timed from now (no detection timer without its multiplier).
      s.detectAt = ev.now + detectionTimeUs(cfg, s);
      if (p.poll) st.send(true);
      // News of our state goes out at once rather than at the idle rate: convergence in one
      // round trip, not one second.
      if (s.state !== before || (firstWord && cfg.passive)) st.send();
      st.scheduleTx(ev.now, ev.rand, s.state !== before);
      break;
    }
    case 'stop':
      if (s.state === 'AdminDown') break;
      st.changeState('AdminDown', DIAG.adminDown, 'stopped');
      s.polling = false;
      s.txAt = undefined;
      s.detectAt = undefined;
      break;
  }
  return { state: s, actions: st.actions };
}
