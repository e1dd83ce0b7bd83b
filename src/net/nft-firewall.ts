// The nftables rules keepalived 2.2.7 installs for no_accept (explicit, or implied by vrrp_strict
// on a non-owner): while an instance is MASTER its VIPs are in a set, and two chains drop what is
// addressed to them or sent from them. Names and shape as keepalived's (vrrp_nftables.c), checked
// against its own ruleset with the real `nft list ruleset` (test/vrrp/strict-netns.test.ts):
//
//   table ip keepalived { set vips { type ipv4_addr }
//     chain out { type filter hook output priority filter - 1; policy accept; ip saddr @vips drop }
//     chain in  { type filter hook input priority filter - 1; policy accept; ip daddr @vips drop } }
//
// keepalived creates the table with the first MASTER that needs it and deletes it at its stop.
// IPv4 VIPs only (keepalived's ip6 table is not built here). Changes go to `nft -f -` one batch
// at a time, in order; a failure is logged and the next batch still runs.
import { execFile } from 'node:child_process';
import { isIPv4 } from 'node:net';
import type { ResolvedVrrpInstance } from '../config/model/index.js';

export interface NftFirewallOptions {
  /** global `nftables [NAME]` (default keepalived). */
  table: string;
  /** nftables_priority (default -1). */
  priority: number;
  /** nftables_counters: a counter on each drop rule. */
  counters: boolean;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Runs `nft -f -` with a script; default the real nft, bounded by NFT_TIMEOUT_MS. */
  run?: (script: string) => Promise<{ ok: boolean; error: string }>;
}

const NFT_TIMEOUT_MS = 5000;

const runNft = (script: string): Promise<{ ok: boolean; error: string }> =>
  new Promise((resolve) => {
    const child = execFile('nft', ['-f', '-'], { encoding: 'utf8', timeout: NFT_TIMEOUT_MS }, (err, _out, stderr) => {
      resolve({ ok: !err, error: err ? (stderr.trim() || err.message).split('\n')[0] : '' });
    });
    child.stdin?.end(script);
  });

/** Whether an instance needs the drop rules: keepalived's `!vrrp->accept` (VMACs are not built). */
export const needsFirewall = (inst: ResolvedVrrpInstance): boolean => !inst.accept;

export class NftFirewall {
  private queue: Promise<void> = Promise.resolve();
  private created = false;
  /** VIPs in the set, with how many instances put each there. */
  private readonly members = new Map<string, number>();
  private readonly run: (script: string) => Promise<{ ok: boolean; error: string }>;

  constructor(private readonly opts: NftFirewallOptions) {
    this.run = opts.run ?? runNft;
  }

  /** The table, set, chains and rules, as keepalived creates them. */
  tableScript(): string {
    const { table: t, priority: p } = this.opts;
    const c = this.opts.counters ? ' counter' : '';
    return [
      `add table ip ${t}`,
      `add set ip ${t} vips { type ipv4_addr; }`,
      `add chain ip ${t} out { type filter hook output priority ${p}; policy accept; }`,
      `add chain ip ${t} in { type filter hook input priority ${p}; policy accept; }`,
      `add rule ip ${t} out ip saddr @vips${c} drop`,
      `add rule ip ${t} in ip daddr @vips${c} drop`,
      '',
    ].join('\n');
  }

  private static vips(inst: ResolvedVrrpInstance): string[] {
    return [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].map((v) => v.address).filter((a) => isIPv4(a));
  }

  private enqueue(script: () => string, what: string): Promise<void> {
    this.queue = this.queue.then(async () => {
      const s = script();
      if (!s) return;
      const r = await this.run(s);
      if (!r.ok) this.opts.log?.('warn', `${what}: nft failed: ${r.error}`);
    });
    return this.queue;
  }

  /** An instance became MASTER: drop traffic to and from its VIPs ("setting firewall drop rule"). */
  add(inst: ResolvedVrrpInstance): Promise<void> {
    if (!needsFirewall(inst)) return this.queue;
    this.opts.log?.('info', `(${inst.name}) setting firewall drop rule`);
    return this.enqueue(() => {
      const fresh = NftFirewall.vips(inst).filter((a) => {
        const n = this.members.get(a) ?? 0;
        this.members.set(a, n + 1);
        return n === 0;
      });
      const head = this.created ? '' : this.tableScript();
      this.created = true;
      return fresh.length ? `${head}add element ip ${this.opts.table} vips { ${fresh.join(', ')} }\n` : head;
    }, `(${inst.name}) setting firewall drop rule`);
  }

  /** The instance left MASTER, or a reload dropped it: its VIPs leave the set. */
  remove(inst: ResolvedVrrpInstance): Promise<void> {
    if (!needsFirewall(inst) || !this.created) return this.queue;
    this.opts.log?.('info', `(${inst.name}) removing firewall drop rule`);
    return this.enqueue(() => {
      const gone = NftFirewall.vips(inst).filter((a) => {
        const n = this.members.get(a) ?? 0;
        if (n > 1) this.members.set(a, n - 1);
        else this.members.delete(a);
        return n === 1;
      });
      return gone.length ? `delete element ip ${this.opts.table} vips { ${gone.join(', ')} }\n` : '';
    }, `(${inst.name}) removing firewall drop rule`);
  }

  /** At the stop: the whole table goes, as keepalived's nft_end(). */
  close(): Promise<void> {
    return this.enqueue(() => {
      if (!this.created) return '';
      this.created = false;
      this.members.clear();
      return `delete table ip ${this.opts.table}\n`;
    }, 'removing the firewall table');
  }
}
