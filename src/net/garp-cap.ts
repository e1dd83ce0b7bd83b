// Gratuitous ARP frames written straight onto the interface through the `cap` addon (libpcap's
// pcap_sendpacket on an AF_PACKET socket): no process per frame. raw-socket cannot open
// AF_PACKET; cap can, and sends a frame here in well under a millisecond once open. One handle per
// interface, opened on first use with a filter that matches nothing (we only send), and each
// (interface, address) frame built once and reused.
//
// A handle is closed at the end of the event-loop turn that opened it: cap polls its socket, and
// an interface deleted under an open handle (a VMAC deleted by hand) makes that poll fail, which
// cap answers with assert(), aborting the daemon. Even a handle kept 1 s after use did that in a
// test (garp_extra_if ARPs every 2 s). A burst goes out within a turn (256 ARPs a turn), so this
// costs one open (2-7 ms measured here) per interface per burst, or per paced ARP.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { garpFrame, parseMac } from './garp-frame.js';

/** The slice of cap 0.2 we use (it ships no type declarations). */
export interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, nBytes?: number): void;
  close(): void;
}
export interface CapModule {
  Cap: new () => CapHandle;
}

/** Loads cap, or says why it cannot. */
export function loadCap(): CapModule | { error: string } {
  try {
    return createRequire(import.meta.url)('cap') as CapModule;
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

// A BPF program that accepts nothing: the handle is for sending; libpcap's ring stays small.
const NO_CAPTURE = 'less 1';
const RING_BYTES = 64 * 1024;
/** Interfaces held open at once; past this, the oldest is closed (reopened when used again). */
export const MAX_GARP_HANDLES = 256;
/** Frames kept built; past this, the cache starts over. */
const MAX_FRAMES = 65_536;

export interface GarpSenderOptions {
  cap: CapModule;
  /** The interface's MAC ("aa:bb:..."); default: /sys/class/net/DEV/address. */
  macOf?: (dev: string) => string | undefined;
  log: (level: 'info' | 'warn', message: string) => void;
}

/**
 * Every cap handle ever opened and since closed, kept reachable for the life of the process. cap
 * 0.2's Pcap destructor, run when the garbage collector frees a handle, emits an async-hooks
 * destroy from inside the collector and leaves its stopped (never uv_close()d) poll handle in
 * libuv's loop: the daemon died of SIGSEGV in a collection (gdb: Pcap::~Pcap ->
 * AsyncWrap::EmitDestroy) after a few GARP bursts, and at stop. A closed handle costs a few hundred
 * bytes; past MAX_RETIRED the handles stay open instead of closing after each burst.
 */
const RETIRED: unknown[] = [];
const MAX_RETIRED = 65_536;

export class CapGarpSender {
  private readonly handles = new Map<string, CapHandle>();
  private readonly frames = new Map<string, Buffer>();
  /** Each interface's MAC as read for its first frame: 1,000 VIPs on one interface read sysfs once. */
  private readonly macs = new Map<string, Buffer>();
  /** Interfaces whose last open or send failed: logged once until one succeeds again. */
  private readonly failing = new Set<string>();
  sent = 0;
  errors = 0;

  constructor(private readonly opts: GarpSenderOptions) {}

  /** Sends the gratuitous ARP for `address` on `dev`; false (logged once per interface) when it could not. */
  send(dev: string, address: string): boolean {
    try {
      const frame = this.frame(dev, address);
      this.handle(dev).send(frame, frame.length);
      this.sent++;
      this.failing.delete(dev);
      return true;
    } catch (e) {
      this.errors++;
      // A failed handle is reopened next time (the interface may have gone and come back).
      this.drop(dev);
      if (!this.failing.has(dev)) {
        this.failing.add(dev);
        this.opts.log('warn', `Error sending gratuitous ARP on ${dev} for ${address}: ${(e as Error).message}`);
      }
      return false;
    }
  }

  /** Forgets built frames (an interface's MAC may have changed, e.g. at a reload). */
  forgetFrames(): void {
    this.frames.clear();
    this.macs.clear();
  }

  /** Closes `dev`'s handle and forgets its frames (the interface is about to go). */
  forget(dev: string): void {
    this.drop(dev);
    for (const key of [...this.frames.keys()]) if (key.startsWith(`${dev}\0`)) this.frames.delete(key);
  }

  close(): void {
    for (const dev of [...this.handles.keys()]) this.drop(dev);
    this.frames.clear();
    this.macs.clear();
  }

  private frame(dev: string, address: string): Buffer {
    const key = `${dev}\0${address}`;
    let f = this.frames.get(key);
    if (!f) {
      let mac = this.macs.get(dev);
      if (!mac) {
        const text = (this.opts.macOf ?? sysfsMac)(dev);
        mac = text === undefined ? undefined : parseMac(text);
        if (!mac) throw new Error(`no Ethernet address for ${dev}`);
        if (this.macs.size >= MAX_GARP_HANDLES) this.macs.clear();
        this.macs.set(dev, mac);
      }
      if (this.frames.size >= MAX_FRAMES) this.frames.clear();
      f = garpFrame(mac, address);
      this.frames.set(key, f);
    }
    return f;
  }

  private handle(dev: string): CapHandle {
    let h = this.handles.get(dev);
    if (!h) {
      if (this.handles.size >= MAX_GARP_HANDLES) this.drop(this.handles.keys().next().value as string);
      h = new this.opts.cap.Cap();
      try {
        h.open(dev, NO_CAPTURE, RING_BYTES, Buffer.alloc(64));
      } catch (e) {
        RETIRED.push(h);
        throw e;
      }
      this.handles.set(dev, h);
      const opened = h;
      // Past the bound of retired handles, handles stay open (see RETIRED).
      if (RETIRED.length < MAX_RETIRED)
        setImmediate(() => {
          if (this.handles.get(dev) === opened) this.drop(dev);
        });
    }
    return h;
  }

  private drop(dev: string): void {
    const h = this.handles.get(dev);
    this.handles.delete(dev);
    if (h) RETIRED.push(h);
    try {
      h?.close();
    } catch {
      // already closed
    }
  }
}

function sysfsMac(dev: string): string | undefined {
  if (!/^[^/\0]{1,15}$/.test(dev) || dev === '.' || dev === '..') return undefined;
  try {
    return readFileSync(`/sys/class/net/${dev}/address`, 'utf8');
  } catch {
    return undefined;
  }
}
