// One connection's life as IPVS counts it, reported by whatever carries the connection: the TCP or
// UDP forwarder, or (with the Balancer's data plane 'none') the lab's simulator. A connection is
// bound to its destination inactive, is active while TCP is established, inactive again while
// closing, and unbound when closed; UDP "connections" stay inactive until they expire
// (ip_vs_proto_udp.c never marks them established). Traffic goes to the destination's and the
// service's statistics; a connection to the sorry server counts for the service only.
import type { Dest } from './dest.js';
import type { Stats } from './estimator.js';

/** connecting → active (both directions open) → closing (one side finished) → closed. */
export type ConnPhase = 'connecting' | 'active' | 'closing' | 'closed';

/** One connection's totals so far: in = client → real server, out = the replies. */
export interface Traffic {
  inBytes: number;
  outBytes: number;
  inPkts?: number;
  outPkts?: number;
}

/** What a data plane reports about one connection it carries. */
export interface ConnReport {
  phase(to: ConnPhase): void;
  /** Totals so far, not increments: reporting the same totals twice counts them once. */
  traffic(t: Traffic): void;
}

type Kind = 'active' | 'inactive' | undefined;

export class Connection implements ConnReport {
  private at: ConnPhase = 'connecting';
  private readonly seen = { inBytes: 0, outBytes: 0, inPkts: 0, outPkts: 0 };

  constructor(
    readonly dest: Dest | undefined,
    private readonly stats: readonly Stats[],
    private readonly protocol: 'TCP' | 'UDP' = 'TCP',
    /** Called once, when the connection is closed (a persistence template lets go of it). */
    private readonly onClosed?: () => void,
  ) {
    dest?.bindConn('inactive');
    for (const s of stats) s.add({ conns: 1 });
  }

  get current(): ConnPhase {
    return this.at;
  }

  phase(to: ConnPhase): void {
    const from = this.at;
    if (from === 'closed' || to === from) return;
    this.at = to;
    if (to === 'closed') this.onClosed?.();
    if (!this.dest) return;
    const a = this.kind(from);
    const b = this.kind(to);
    if (a === b) return;
    if (a && b) this.dest.moveConn(a, b);
    else if (a) this.dest.unbindConn(a);
  }

  traffic(t: Traffic): void {
    const s = this.seen;
    const d = {
      inbytes: t.inBytes - s.inBytes,
      outbytes: t.outBytes - s.outBytes,
      inpkts: (t.inPkts ?? s.inPkts) - s.inPkts,
      outpkts: (t.outPkts ?? s.outPkts) - s.outPkts,
    };
    if (!d.inbytes && !d.outbytes && !d.inpkts && !d.outpkts) return;
    s.inBytes = t.inBytes;
    s.outBytes = t.outBytes;
    s.inPkts = t.inPkts ?? s.inPkts;
    s.outPkts = t.outPkts ?? s.outPkts;
    for (const x of this.stats) x.add(d);
  }

  private kind(p: ConnPhase): Kind {
    if (p === 'closed') return undefined;
    return p === 'active' && this.protocol === 'TCP' ? 'active' : 'inactive';
  }
}
