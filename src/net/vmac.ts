// The VMAC (macvlan, mode private) and ipvlan (mode l2) interfaces of use_vmac / use_ipvlan, made
// and removed as keepalived 2.2.7 does (vrrp_vmac.c netlink_link_add_vmac, netlink_link_add_ipvlan,
// netlink_link_del_vmac) with iproute2, and the sysctls it sets for them (vrrp_if_config.c): on an
// IPv4 VMAC arp_ignore=1, accept_local=1, rp_filter=0, promote_secondaries=1 and no IPv6; on its
// base interface arp_ignore=1 and arp_filter=1 (put back when its last VMAC goes); and, once,
// all.rp_filter 0 with every interface raised to its old value (put back at the end).
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { ResolvedVmac } from '../config/model/index.js';
import { spawnExec, type Exec } from './addresses.js';

/** `ip link add` for a VMAC or ipvlan (pure). */
export function vmacAddArgs(v: ResolvedVmac): string[] {
  if (v.kind === 'ipvlan') return ['ip', 'link', 'add', 'link', v.base, 'name', v.ifname, 'type', 'ipvlan', 'mode', 'l2', v.mode];
  return ['ip', 'link', 'add', 'link', v.base, 'name', v.ifname, 'address', v.mac ?? '', 'type', 'macvlan', 'mode', 'private'];
}

/** What `ip -d -j link show` says of an existing interface, as far as we use it. */
export interface LinkFacts {
  kind?: string;
  /** The interface it is on (macvlan, ipvlan). */
  link?: string;
  address?: string;
  mode?: string;
  up: boolean;
}

/** Parses `ip -d -j link show dev NAME`'s output; undefined when it names no interface. */
export function parseLinkFacts(json: string): LinkFacts | undefined {
  try {
    const [l] = JSON.parse(json) as { link?: string; address?: string; flags?: string[]; linkinfo?: { info_kind?: string; info_data?: { mode?: string } } }[];
    if (!l) return undefined;
    return { kind: l.linkinfo?.info_kind, link: l.link, address: l.address?.toLowerCase(), mode: l.linkinfo?.info_data?.mode, up: !!l.flags?.includes('UP') };
  } catch {
    return undefined;
  }
}

/** What to do with an existing interface of the VMAC's name (keepalived netlink_link_add_vmac). */
export type Existing = 'create' | 'reuse' | 'recreate' | 'update' | 'conflict';

export function existingAction(v: ResolvedVmac, facts: LinkFacts | undefined): Existing {
  if (!facts) return 'create';
  if (v.kind === 'ipvlan') return facts.kind === 'ipvlan' ? 'reuse' : 'conflict';
  if (facts.kind !== 'macvlan') return 'conflict';
  if (facts.link !== v.base) return 'recreate';
  if (facts.address !== v.mac || facts.mode !== 'private') return 'update';
  return 'reuse';
}

/** A sysctl under /proc/sys/net: read (undefined when absent) and written. */
export interface Sysctl {
  get(path: string): number | undefined;
  set(path: string, value: number): boolean;
}

const SAFE_NAME = /^[^/\0]{1,15}$/;

const procSysctl: Sysctl = {
  get: (path) => {
    try {
      const v = Number(readFileSync(`/proc/sys/net/${path}`, 'utf8').trim());
      return Number.isInteger(v) ? v : undefined;
    } catch {
      return undefined;
    }
  },
  set: (path, value) => {
    try {
      writeFileSync(`/proc/sys/net/${path}`, `${value}\n`);
      return true;
    } catch {
      return false;
    }
  },
};

export interface VmacOptions {
  exec?: Exec;
  /** `ip -d -j link show dev NAME`'s output, '' when there is none. */
  show?: (ifname: string) => Promise<string>;
  sysctl?: Sysctl;
  /** The interfaces there are (for rp_filter), default: /sys/class/net's. */
  interfaces?: () => string[];
  /** An interface's IPv6 link-local address, for an IPv6 VMAC. */
  linkLocal?: (ifname: string) => string | undefined;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const showLink = (ifname: string): Promise<string> =>
  new Promise((resolve) => {
    execFile('ip', ['-d', '-j', 'link', 'show', 'dev', ifname], { timeout: 5000, maxBuffer: 1 << 20 }, (err, stdout) => resolve(err ? '' : stdout));
  });

const baseLinkLocal = (ifname: string): string | undefined =>
  networkInterfaces()[ifname]?.find((a) => a.family === 'IPv6' && a.address.startsWith('fe80'))?.address;

const listInterfaces = (): string[] => Object.keys(networkInterfaces());

/** One still to make, for `instance`; `noBase`: its base interface was missing (else ip failed). */
export interface Waiting {
  vmac: ResolvedVmac;
  instance: string;
  noBase: boolean;
}

/** The daemon's VMAC and ipvlan interfaces: the ones it made or took over, which it removes. */
export class VmacLinks {
  /** Ours, by name, as they were made and with the instance each was made for. */
  private readonly ours = new Map<string, { vmac: ResolvedVmac; instance: string }>();
  /** Ours that are not there: the kernel refused them or their base is missing. keepalived keeps
   * their instance FAULT and makes them when their base interface changes (vrrp_if.c
   * update_added_interface, recreate_vmac_thread); so do we (VmacWatch). */
  private readonly pending = new Map<string, Waiting>();
  /** Base interfaces whose arp_ignore/arp_filter we changed: their old values and how many VMACs use them. */
  private readonly bases = new Map<string, { arpIgnore?: number; arpFilter?: number; users: number }>();
  /** all.rp_filter and default.rp_filter's old values and the interfaces we raised, once cleared. */
  private rpFilter?: { all: number; default?: number; raised: Map<string, number> };
  private readonly exec: Exec;
  private readonly sysctl: Sysctl;

  constructor(private readonly opts: VmacOptions) {
    this.exec = opts.exec ?? spawnExec;
    this.sysctl = opts.sysctl ?? procSysctl;
  }

  /** Whether `ifname` is one of ours. */
  has(ifname: string): boolean {
    return this.ours.has(ifname);
  }

  /** Names of ours. */
  names(): string[] {
    return [...this.ours.keys()];
  }

  /** Names of those still to make, with what they are for. */
  waiting(): [string, Waiting][] {
    return [...this.pending];
  }

  /** One to make once its base interface is there (it is missing now). */
  wait(iname: string, v: ResolvedVmac): void {
    if (!this.ours.has(v.ifname)) this.pending.set(v.ifname, { vmac: v, instance: iname, noBase: true });
  }

  /** Tries again to make one still to make; an error line when it still cannot. */
  async retry(ifname: string): Promise<string | undefined> {
    const p = this.pending.get(ifname);
    return p ? this.add(p.instance, p.vmac) : undefined;
  }

  /** Forgets those still to make that `keep` does not name (a reload dropped them, or was refused). */
  keepWaiting(keep: ReadonlySet<string>): void {
    for (const name of this.pending.keys()) if (!keep.has(name)) this.pending.delete(name);
  }

  /** One of ours, as it was made, with the instance it was made for. */
  get(ifname: string): { vmac: ResolvedVmac; instance: string } | undefined {
    return this.ours.get(ifname);
  }

  /**
   * Makes one of ours again after something else deleted it (keepalived recreate_vmac_thread):
   * the same name, MAC, mode and sysctls; its base interface's old values stay saved.
   */
  async restore(ifname: string): Promise<string | undefined> {
    const mine = this.ours.get(ifname);
    if (!mine) return undefined;
    const { vmac: v, instance: iname } = mine;
    this.ours.delete(ifname);
    // add() counts the base's VMACs again.
    const b = this.bases.get(v.base);
    if (b && v.kind === 'macvlan' && v.family === 4) b.users--;
    const error = await this.add(iname, v);
    if (error && b && b.users === 0) this.resetBase(v.base);
    return error;
  }

  /**
   * Makes (or takes over) the interface for instance `iname`; an error line when it cannot (an
   * interface of that name that is not a macvlan/ipvlan, or ip failing). Already ours: nothing to
   * do. One that ip fails to make is kept to make later (waiting(), retry()).
   */
  async add(iname: string, v: ResolvedVmac): Promise<string | undefined> {
    const known = this.ours.get(v.ifname)?.vmac;
    if (known && sameVmac(known, v)) return undefined;
    if (known) await this.remove(known.ifname);
    this.pending.delete(v.ifname);
    const error = await this.make(iname, v);
    if (error && !this.conflicts(error, v)) this.pending.set(v.ifname, { vmac: v, instance: iname, noBase: false });
    return error;
  }

  /** Whether `error` is add()'s refusal of a foreign interface of the name (nothing to retry). */
  conflicts(error: string, v: ResolvedVmac): boolean {
    return error === conflictLine(v);
  }

  private async make(iname: string, v: ResolvedVmac): Promise<string | undefined> {
    const facts = parseLinkFacts(await (this.opts.show ?? showLink)(v.ifname));
    const action = existingAction(v, facts);
    const what = v.kind === 'ipvlan' ? 'ipvlan' : 'VMAC';
    if (action === 'conflict') return conflictLine(v);
    if (action === 'recreate') {
      this.opts.log('info', `(${iname}) Removing old VMAC interface ${v.ifname} due to conflicting interface`);
      const r = await this.exec(['ip', 'link', 'del', 'dev', v.ifname]);
      if (r.code !== 0) return `(${iname}) Error removing VMAC interface ${v.ifname}: ${r.stderr}`;
    }
    let made = action !== 'reuse';
    if (action === 'update') {
      this.opts.log('info', `(${iname}) Update old VMAC interface ${v.ifname} due to wrong MAC/mode `);
      const r = await this.exec(['ip', 'link', 'set', 'dev', v.ifname, 'address', v.mac ?? '', 'type', 'macvlan', 'mode', 'private']);
      if (r.code !== 0) return `(${iname}): Unable to create VMAC interface ${v.ifname}: ${r.stderr}`;
    } else if (action === 'create' || action === 'recreate') {
      const r = await this.exec(vmacAddArgs(v));
      if (r.code !== 0) return `(${iname}): Unable to create ${what} interface ${v.ifname}: ${r.stderr}`;
      this.opts.log('info', `(${iname}): Success creating ${what} interface ${v.ifname}`);
    } else {
      made = false;
      this.opts.log('info', `(${iname}) Found matching interface ${v.ifname}`);
    }
    this.ours.set(v.ifname, { vmac: v, instance: iname });
    // keepalived: the sysctls on a VMAC it made (an IPv4 instance's), none for an ipvlan.
    if (v.kind === 'macvlan' && v.family === 4 && made) this.setParameters(v);
    // No IPv6 on an IPv4 instance's interface; no EUI-64 link-local on any (RFC 5798 7.4).
    this.sysctl.set(`ipv6/conf/${v.ifname}/disable_ipv6`, v.family === 4 ? 1 : 0);
    if (v.kind === 'macvlan') await this.exec(['ip', 'link', 'set', 'dev', v.ifname, 'addrgenmode', 'none']);
    const up = await this.exec(['ip', 'link', 'set', 'dev', v.ifname, 'up']);
    if (up.code !== 0) this.opts.log('warn', `(${iname}) cannot bring ${v.ifname} up: ${up.stderr}`);
    // keepalived set_link_local_address: an IPv6 VMAC sends from the base interface's link-local address.
    if (v.kind === 'macvlan' && v.family === 6 && !v.xmitBase) {
      const ll = (this.opts.linkLocal ?? baseLinkLocal)(v.base);
      const r = ll ? await this.exec(['ip', '-6', 'addr', 'replace', `${ll}/64`, 'dev', v.ifname, 'nodad']) : { code: 1, stderr: `${v.base} has none` };
      if (r.code !== 0) this.opts.log('warn', `(${iname}) adding link-local address to ${v.ifname} failed: ${r.stderr}`);
    }
    if (v.kind === 'ipvlan' && v.address) {
      const r = await this.exec(['ip', 'addr', 'replace', v.address, 'dev', v.ifname]);
      if (r.code !== 0) this.opts.log('warn', `${iname}: Failed to add interface address to ${v.ifname}`);
    }
    return undefined;
  }

  /** Removes one of ours, putting its base interface's ARP settings back when its last VMAC goes. */
  async remove(ifname: string): Promise<void> {
    this.pending.delete(ifname);
    const mine = this.ours.get(ifname)?.vmac;
    if (!mine) return;
    this.ours.delete(ifname);
    if (mine.kind === 'macvlan' && mine.family === 4) this.resetBase(mine.base);
    const r = await this.exec(['ip', 'link', 'del', 'dev', ifname]);
    if (r.code !== 0) this.opts.log('warn', `Error removing VMAC interface ${ifname}: ${r.stderr}`);
  }

  /** At the end: every one of ours removed, and all/default/each interface's rp_filter put back. */
  async close(): Promise<void> {
    for (const ifname of [...this.ours.keys()]) await this.remove(ifname);
    const rp = this.rpFilter;
    if (!rp) return;
    this.rpFilter = undefined;
    this.sysctl.set('ipv4/conf/all/rp_filter', rp.all);
    if (rp.default !== undefined) this.sysctl.set('ipv4/conf/default/rp_filter', rp.default);
    for (const [ifname, value] of rp.raised) this.sysctl.set(`ipv4/conf/${ifname}/rp_filter`, value);
  }

  private setParameters(v: ResolvedVmac): void {
    if (!this.rpFilter) this.clearRpFilter();
    if (!SAFE_NAME.test(v.ifname) || !SAFE_NAME.test(v.base)) return;
    for (const [key, value] of [
      ['arp_ignore', 1],
      ['accept_local', 1],
      ['rp_filter', 0],
      ['promote_secondaries', 1],
    ] as const)
      this.sysctl.set(`ipv4/conf/${v.ifname}/${key}`, value);
    const b = this.bases.get(v.base);
    if (b) {
      b.users++;
      return;
    }
    const arpIgnore = this.sysctl.get(`ipv4/conf/${v.base}/arp_ignore`);
    const arpFilter = this.sysctl.get(`ipv4/conf/${v.base}/arp_filter`);
    if (arpIgnore !== 1) this.sysctl.set(`ipv4/conf/${v.base}/arp_ignore`, 1);
    if (arpFilter !== 1) this.sysctl.set(`ipv4/conf/${v.base}/arp_filter`, 1);
    this.bases.set(v.base, { arpIgnore, arpFilter, users: 1 });
  }

  private resetBase(base: string): void {
    const b = this.bases.get(base);
    if (!b || --b.users > 0) return;
    this.bases.delete(base);
    if (b.arpIgnore !== undefined) this.sysctl.set(`ipv4/conf/${base}/arp_ignore`, b.arpIgnore);
    if (b.arpFilter !== undefined) this.sysctl.set(`ipv4/conf/${base}/arp_filter`, b.arpFilter);
  }

  /** keepalived clear_rp_filter: all.rp_filter to 0, default and every interface kept at least at its old value. */
  private clearRpFilter(): void {
    const all = this.sysctl.get('ipv4/conf/all/rp_filter');
    if (all === undefined) {
      this.opts.log('info', 'Unable to read sysctl net.ipv4.conf.all.rp_filter');
      return;
    }
    const raised = new Map<string, number>();
    this.rpFilter = { all, raised };
    if (all === 0) return;
    const def = this.sysctl.get('ipv4/conf/default/rp_filter');
    if (def !== undefined && def < all) {
      this.opts.log('info', `NOTICE: setting sysctl net.ipv4.conf.default.rp_filter from ${def} to ${all}`);
      this.sysctl.set('ipv4/conf/default/rp_filter', all);
      this.rpFilter.default = def;
    }
    for (const ifname of (this.opts.interfaces ?? listInterfaces)()) {
      if (!SAFE_NAME.test(ifname)) continue;
      const v = this.sysctl.get(`ipv4/conf/${ifname}/rp_filter`);
      if (v !== undefined && v < all && this.sysctl.set(`ipv4/conf/${ifname}/rp_filter`, all)) raised.set(ifname, v);
    }
    this.opts.log('info', `NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from ${all} to 0`);
    this.sysctl.set('ipv4/conf/all/rp_filter', 0);
  }
}

const conflictLine = (v: ResolvedVmac): string => `${v.kind === 'ipvlan' ? 'ipvlan' : 'VMAC'} ${v.ifname} conflicts with existing interface`;

/** Whether two resolved interfaces are the same interface made the same way. */
export function sameVmac(a: ResolvedVmac, b: ResolvedVmac): boolean {
  return (
    a.kind === b.kind && a.ifname === b.ifname && a.base === b.base && a.mac === b.mac && a.mode === b.mode && a.address === b.address && a.family === b.family
  );
}
