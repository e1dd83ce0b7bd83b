// The nftables rules keepalived 2.2.7 installs for no_accept (explicit, or implied by vrrp_strict
// on a non-owner): while an instance is MASTER its VIPs are in sets, and chains drop what is
// addressed to them or sent from them. Names, shape and order as keepalived's (vrrp_nftables.c),
// checked against its own ruleset with the real `nft list ruleset` (test/vrrp/strict-netns.test.ts,
// test/vrrp/strict-nft6-netns.test.ts):
//
//   table ip keepalived { set vips { type ipv4_addr }
//     chain out { type filter hook output priority filter - 1; policy accept; ip saddr @vips drop }
//     chain in  { type filter hook input priority filter - 1; policy accept; ip daddr @vips drop } }
//   table ip6 keepalived { set vips { type ipv6_addr }
//     set neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert } }
//     set vips_link_local { type ipv6_addr . iface_index }          (link-local VIPs, by interface index)
//     set vips_link_local_name { type ipv6_addr . ifname }          (dont_track_primary: by name)
//     chain out { ...; icmpv6 type @neighbor-discovery accept; ip6 saddr fe80::/10 goto out_link_local; ip6 saddr @vips drop }
//     chain in  { ...; icmpv6 type @neighbor-discovery accept; ip6 daddr fe80::/10 goto in_link_local; ip6 daddr @vips drop }
//     chain in_link_local { ip6 daddr . iif @vips_link_local drop }   (iifname for the _name set)
//     chain out_link_local { ip6 saddr . oif @vips_link_local drop } }
//
// Neighbour discovery passes so that a MASTER still answers for (and announces) its VIPs. Each
// family's table is made with the first MASTER that needs it; before the first, tables of that
// name left by an earlier run are deleted ("Deleting old ip6 keepalived table"). Both go at the
// stop. Changes go to `nft -f -` one batch at a time, in order; a failure is logged and the next
// batch still runs.
import { execFile } from 'node:child_process';
import { isIPv4 } from 'node:net';
import type { ResolvedVirtualAddress, ResolvedVrrpInstance } from '../config/model/index.js';

/** What a reload may change: it applies to the chains and rules made from then on (keepalived's global_data). */
export interface NftRuleOptions {
  /** nftables_priority (default -1). */
  priority: number;
  /** nftables_counters: a counter on each rule. */
  counters: boolean;
  /** nftables_ifindex: link-local VIPs always matched by interface index. */
  ifindex: boolean;
}

export interface NftFirewallOptions extends NftRuleOptions {
  /** global `nftables [NAME]` (default keepalived); fixed for the daemon's life, as in keepalived. */
  table: string;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Runs `nft -f -` with a script; default the real nft, bounded by NFT_TIMEOUT_MS. */
  run?: (script: string) => Promise<{ ok: boolean; error: string }>;
}

type Family = 'ip' | 'ip6';
type SetName = 'vips' | 'vips_link_local' | 'vips_link_local_name';
interface Entry {
  family: Family;
  set: SetName;
  element: string;
}

const NFT_TIMEOUT_MS = 5000;
/** The interface names nft reads in a quoted string: what Linux allows, nothing that ends the quote. */
const IFNAME = /^[^\s"\\/]{1,15}$/;

const runNft = (script: string): Promise<{ ok: boolean; error: string }> =>
  new Promise((resolve) => {
    const child = execFile('nft', ['-f', '-'], { encoding: 'utf8', timeout: NFT_TIMEOUT_MS }, (err, _out, stderr) => {
      resolve({ ok: !err, error: err ? (stderr.trim() || err.message).split('\n')[0] : '' });
    });
    child.stdin?.end(script);
  });

/** Whether an instance needs the drop rules: keepalived's `!vrrp->accept`. */
export const needsFirewall = (inst: ResolvedVrrpInstance): boolean => !inst.accept;

/** The set a VIP goes in, and its element, as vrrp_nftables.c's nft_update_ipv6_address picks them. */
export function entryOf(vip: ResolvedVirtualAddress, inst: ResolvedVrrpInstance, ifindex: boolean): Entry | undefined {
  if (isIPv4(vip.address)) return { family: 'ip', set: 'vips', element: vip.address };
  if (!/^fe[89ab]/i.test(vip.address)) return { family: 'ip6', set: 'vips', element: vip.address };
  if (!IFNAME.test(vip.dev)) return undefined;
  // By name only with dont_track_primary, for a VIP on the instance's own interface or one not tracked.
  const own = inst.vmac?.ifname ?? inst.interface;
  const byName = !ifindex && inst.dontTrackPrimary && (vip.dev === own || vip.flags.includes('no_track'));
  return { family: 'ip6', set: byName ? 'vips_link_local_name' : 'vips_link_local', element: `${vip.address} . "${vip.dev}"` };
}

export class NftFirewall {
  private queue: Promise<void> = Promise.resolve();
  /** What exists of the tables: keepalived's ipv4_vips_setup, ipv6_vips_setup, setup_ll_ifname/ifindex. */
  private readonly made = new Set<Family | SetName>();
  /** Elements in the sets (family, set, element), with how many instances put each there. */
  private readonly members = new Map<string, number>();
  private readonly run: (script: string) => Promise<{ ok: boolean; error: string }>;
  private rules: NftRuleOptions;

  constructor(private readonly opts: NftFirewallOptions) {
    this.run = opts.run ?? runNft;
    this.rules = { priority: opts.priority, counters: opts.counters, ifindex: opts.ifindex };
  }

  get table(): string {
    return this.opts.table;
  }

  /** A reload's nftables_priority, nftables_counters and nftables_ifindex, for what is made from now on. */
  configure(rules: NftRuleOptions): void {
    this.rules = { ...rules };
  }

  private get counter(): string {
    return this.rules.counters ? ' counter' : '';
  }

  private chain(f: Family, name: 'in' | 'out'): string {
    const hook = name === 'in' ? 'input' : 'output';
    return `add chain ${f} ${this.opts.table} ${name} { type filter hook ${hook} priority ${this.rules.priority}; policy accept; }`;
  }

  /** One family's table with its vips set, chains and rules (nft_setup_ipv4_vips, nft_setup_ipv6_vips). */
  private familyScript(f: Family): string[] {
    const t = `${f} ${this.opts.table}`;
    const c = this.counter;
    if (f === 'ip')
      return [
        `add table ${t}`,
        `add set ${t} vips { type ipv4_addr; }`,
        this.chain(f, 'out'),
        this.chain(f, 'in'),
        `add rule ${t} out ip saddr @vips${c} drop`,
        `add rule ${t} in ip daddr @vips${c} drop`,
      ];
    return [
      `add table ${t}`,
      this.chain(f, 'out'),
      this.chain(f, 'in'),
      `add chain ${t} in_link_local`,
      `add chain ${t} out_link_local`,
      `add set ${t} vips { type ipv6_addr; }`,
      `add set ${t} neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert }; }`,
      `add rule ${t} in icmpv6 type @neighbor-discovery${c} accept`,
      `add rule ${t} in ip6 daddr fe80::/10${c} goto in_link_local`,
      `add rule ${t} out icmpv6 type @neighbor-discovery${c} accept`,
      `add rule ${t} out ip6 saddr fe80::/10${c} goto out_link_local`,
      `add rule ${t} in ip6 daddr @vips${c} drop`,
      `add rule ${t} out ip6 saddr @vips${c} drop`,
    ];
  }

  /** A link-local set and its two rules (setup_link_local_checks). */
  private linkLocalScript(set: SetName): string[] {
    const t = `ip6 ${this.opts.table}`;
    const c = this.counter;
    const [type, iif, oif] = set === 'vips_link_local_name' ? ['ifname', 'iifname', 'oifname'] : ['iface_index', 'iif', 'oif'];
    return [
      `add set ${t} ${set} { type ipv6_addr . ${type}; }`,
      `add rule ${t} in_link_local ip6 daddr . ${iif} @${set}${c} drop`,
      `add rule ${t} out_link_local ip6 saddr . ${oif} @${set}${c} drop`,
    ];
  }

  /** Before the first table: what an earlier run left under this name goes (check_and_delete_tables). */
  private async residue(): Promise<string[]> {
    const out: string[] = [];
    for (const f of ['ip', 'ip6'] as const) {
      if (!(await this.run(`list table ${f} ${this.opts.table}\n`)).ok) continue;
      this.opts.log?.('info', `Deleting old ${f} ${this.opts.table} table`);
      out.push(`delete table ${f} ${this.opts.table}`);
    }
    return out;
  }

  private entries(inst: ResolvedVrrpInstance): Entry[] {
    return [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].flatMap((v) => entryOf(v, inst, this.rules.ifindex) ?? []);
  }

  /** `add|delete element` lines, one per set, in keepalived's order (ip vips, ip6 vips, by index, by name). */
  private static elements(verb: 'add' | 'delete', table: string, list: Entry[]): string {
    const order: [Family, SetName][] = [
      ['ip', 'vips'],
      ['ip6', 'vips'],
      ['ip6', 'vips_link_local'],
      ['ip6', 'vips_link_local_name'],
    ];
    return order
      .map(([f, s]) => list.filter((e) => e.family === f && e.set === s).map((e) => e.element))
      .map((els, i) => (els.length ? `${verb} element ${order[i][0]} ${table} ${order[i][1]} { ${els.join(', ')} }\n` : ''))
      .join('');
  }

  private enqueue(script: () => Promise<string>, what: string): Promise<void> {
    this.queue = this.queue.then(async () => {
      const s = await script();
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
    return this.enqueue(async () => {
      const fresh = this.entries(inst).filter((e) => {
        const key = `${e.family} ${e.set} ${e.element}`;
        const n = this.members.get(key) ?? 0;
        this.members.set(key, n + 1);
        return n === 0;
      });
      const head: string[] = [];
      for (const e of fresh) {
        if (!this.made.has(e.family)) {
          if (!this.made.has('ip') && !this.made.has('ip6')) head.push(...(await this.residue()));
          head.push(...this.familyScript(e.family));
          this.made.add(e.family);
        }
        if (e.set !== 'vips' && !this.made.has(e.set)) {
          head.push(...this.linkLocalScript(e.set));
          this.made.add(e.set);
        }
      }
      return (head.length ? `${head.join('\n')}\n` : '') + NftFirewall.elements('add', this.opts.table, fresh);
    }, `(${inst.name}) setting firewall drop rule`);
  }

  /** The instance left MASTER, or a reload dropped it: its VIPs leave the sets. */
  remove(inst: ResolvedVrrpInstance): Promise<void> {
    if (!needsFirewall(inst) || this.made.size === 0) return this.queue;
    this.opts.log?.('info', `(${inst.name}) removing firewall drop rule`);
    return this.enqueue(async () => {
      const gone = this.entries(inst).filter((e) => {
        const key = `${e.family} ${e.set} ${e.element}`;
        const n = this.members.get(key) ?? 0;
        if (n > 1) this.members.set(key, n - 1);
        else this.members.delete(key);
        return n === 1;
      });
      return NftFirewall.elements('delete', this.opts.table, gone);
    }, `(${inst.name}) removing firewall drop rule`);
  }

  /** At the stop: the tables go, as keepalived's nft_end(). */
  close(): Promise<void> {
    return this.enqueue(async () => {
      const tables = (['ip', 'ip6'] as const).filter((f) => this.made.has(f));
      this.made.clear();
      this.members.clear();
      return tables.map((f) => `delete table ${f} ${this.opts.table}\n`).join('');
    }, 'removing the firewall table');
  }
}
