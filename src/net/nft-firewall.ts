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
// For each VMAC (use_vmac, use_vmac_addr; not ipvlan) keepalived also moves the IGMP/MLD reports
// the kernel sends on it to its base interface, and drops its router solicitations
// (setup_rule_move_igmp, setup_rule_drop_router_solicit), from the moment it is made, strict or not
// ("use_vmac ... specified, but no firewall configured - using nftables"):
//
//   table ip keepalived { map vmac_map { type iface_index : iface_index }      ("vrrp.51" : "eth0")
//     chain out { ...; ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop } }
//   table ip6 keepalived { map vmac_map { ... }  set vmac_set { type iface_index }
//     chain out { ...; icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop
//                      icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop } }
//
// (IPv4 not with disable_local_igmp; the other family too when the instance has eVIPs of it.)
// Neighbour discovery passes so that a MASTER still answers for (and announces) its VIPs. Each
// family's table is made with the first MASTER that needs it; before the first, tables of that
// name left by an earlier run are deleted ("Deleting old ip6 keepalived table"). Both go at the
// stop. Changes go to `nft -f -` one batch at a time, in order; a failure is logged and the next
// batch still runs.
import { execFile } from 'node:child_process';
import { isIPv4 } from 'node:net';
import type { ResolvedVirtualAddress, ResolvedVmac, ResolvedVrrpInstance } from '../config/model/index.js';

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
  /** What exists of the tables: keepalived's ipv4_vips_setup, ipv6_vips_setup, setup_ll_ifname/ifindex,
   * and (`igmp FAMILY`) ipv4_igmp_setup, ipv6_igmp_setup. */
  private readonly made = new Set<Family | SetName | `igmp ${Family}`>();
  /** The VMACs in vmac_map, by family and name, with their index and their base's when added
   * (the map holds indexes: a VMAC deleted by hand leaves by number). */
  private readonly vmacs = new Map<string, { index: number; base: number }>();
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
          if (this.made.size === 0) head.push(...(await this.residue()));
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

  /** The IGMP (MLD) rules of one family and its vmac_map (vmac_set) (nft_setup_igmp). */
  private igmpScript(f: Family): string[] {
    const t = `${f} ${this.opts.table}`;
    const c = this.counter;
    const head = [`add table ${t}`, this.chain(f, 'out'), `add map ${t} vmac_map { type iface_index : iface_index; }`];
    if (f === 'ip') return [...head, `add rule ${t} out ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map${c} drop`];
    return [
      ...head,
      `add set ${t} vmac_set { type iface_index; }`,
      `add rule ${t} out icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map${c} drop`,
      `add rule ${t} out icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set${c} drop`,
    ];
  }

  /** The families a VMAC's rules are in (firewall_add_vmac): its own (IPv4 not with
   * disable_local_igmp), and the other with eVIPs of it. */
  static vmacFamilies(v: ResolvedVmac, otherFamily: boolean, disableLocalIgmp: boolean): Family[] {
    if (v.kind !== 'macvlan') return [];
    const own: Family = v.family === 4 ? 'ip' : 'ip6';
    if (own === 'ip' && disableLocalIgmp) return [];
    return otherFamily ? [own, own === 'ip' ? 'ip6' : 'ip'] : [own];
  }

  /** A VMAC was made (or taken over): its reports go out on its base (nft_add_vmac). `index`
   * reads an interface's index, undefined when it is missing. */
  addVmac(v: ResolvedVmac, families: readonly Family[], index: (ifname: string) => number | undefined): Promise<void> {
    if (!families.length || !IFNAME.test(v.ifname) || !IFNAME.test(v.base)) return this.queue;
    return this.enqueue(async () => {
      const vi = index(v.ifname);
      const bi = index(v.base);
      if (vi === undefined || bi === undefined) return '';
      const lines: string[] = [];
      for (const f of families) {
        const t = `${f} ${this.opts.table}`;
        if (!this.made.has(`igmp ${f}`)) {
          if (this.made.size === 0) lines.push(...(await this.residue()));
          lines.push(...this.igmpScript(f));
          this.made.add(`igmp ${f}`);
        }
        // One made again by its old name: the old index leaves first.
        const old = this.vmacs.get(`${f} ${v.ifname}`);
        if (old && old.index !== vi) lines.push(...vmacElements('delete', t, f, String(old.index), String(old.base)));
        this.vmacs.set(`${f} ${v.ifname}`, { index: vi, base: bi });
        lines.push(...vmacElements('add', t, f, `"${v.ifname}"`, `"${v.base}"`));
      }
      return `${lines.join('\n')}\n`;
    }, `(${v.ifname}) setting the IGMP/MLD rule`);
  }

  /** A VMAC of ours goes (nft_remove_vmac): out of vmac_map (vmac_set), by index. */
  removeVmac(ifname: string): Promise<void> {
    return this.enqueue(async () => {
      const lines: string[] = [];
      for (const f of ['ip', 'ip6'] as const) {
        const known = this.vmacs.get(`${f} ${ifname}`);
        if (!known) continue;
        this.vmacs.delete(`${f} ${ifname}`);
        lines.push(...vmacElements('delete', `${f} ${this.opts.table}`, f, String(known.index), String(known.base)));
      }
      return lines.length ? `${lines.join('\n')}\n` : '';
    }, `(${ifname}) removing the IGMP/MLD rule`);
  }

  /** At the stop: the tables go, as keepalived's nft_end(). */
  close(): Promise<void> {
    return this.enqueue(async () => {
      const tables = (['ip', 'ip6'] as const).filter((f) => this.made.has(f) || this.made.has(`igmp ${f}`));
      this.made.clear();
      this.members.clear();
      this.vmacs.clear();
      return tables.map((f) => `delete table ${f} ${this.opts.table}\n`).join('');
    }, 'removing the firewall table');
  }
}

/** `add|delete element` lines of a VMAC: vmac_map's VMAC : base, and for IPv6 vmac_set's VMAC. */
function vmacElements(verb: 'add' | 'delete', table: string, f: Family, vmac: string, base: string): string[] {
  const out = [`${verb} element ${table} vmac_map { ${vmac} : ${base} }`];
  if (f === 'ip6') out.push(`${verb} element ${table} vmac_set { ${vmac} }`);
  return out;
}
