// A VMAC of ours deleted by something else is made again, as keepalived 2.2.7 does
// (keepalived_netlink.c: RTM_DELLINK of an interface it made, recreate_vmac_thread): same name,
// MAC, mode and sysctls. Its instance goes FAULT meanwhile when the VMAC is its interface (the
// link trackers see it go) and comes back as the link does; the sockets bound to it and the
// long-lived ip are renewed, since the new VMAC has a new index. One that could not be made (the
// kernel refused it, or its base was missing) is tried again at each event of its base interface,
// as keepalived does when that interface is added (vrrp_if.c update_added_interface): its
// instance stays FAULT until then.
import type { LinkMonitor, LinkWatch } from '../net/link-monitor.js';
import type { VmacLinks } from '../net/vmac.js';

export interface VmacWatchDeps {
  links: LinkMonitor;
  vmacs: VmacLinks;
  exists: (ifname: string) => boolean;
  /** Before it is made again: what caches its old index lets go (ip -batch, the ARP sender). */
  forget: (ifname: string) => Promise<void>;
  /** Made (again): its sockets (re)open, and its instance's addresses go back if it is MASTER. */
  restored: (ifname: string, instance: string) => void;
  log: (level: 'info' | 'warn', message: string) => void;
}

export class VmacWatch {
  private watch: LinkWatch | undefined;
  /** Being made again now: one at a time each. */
  private readonly busy = new Set<string>();
  private closed = false;

  constructor(private readonly deps: VmacWatchDeps) {}

  /** Follows link events once there is a VMAC of ours (at the start, and after each reload). */
  update(): void {
    if (this.watch || this.closed || !(this.deps.vmacs.names().length + this.deps.vmacs.waiting().length)) return;
    this.watch = this.deps.links.subscribe((n) => this.changed(n));
    // One may have gone, or a missing base come, while nobody was listening (those ip failed to
    // make were just tried).
    for (const name of this.deps.vmacs.names()) void this.check(name);
    for (const [name, w] of this.deps.vmacs.waiting()) if (w.noBase) void this.make(name);
  }

  close(): void {
    this.closed = true;
    this.watch?.stop();
    this.watch = undefined;
  }

  private changed(ifname: string | undefined): void {
    if (this.closed) return;
    for (const name of this.deps.vmacs.names()) {
      const base = this.deps.vmacs.get(name)?.vmac.base;
      // Its base going and coming back takes the VMAC with it (the kernel deletes a macvlan with its lower device).
      if (ifname === undefined || ifname === name || ifname === base) void this.check(name);
    }
    for (const [name, { vmac }] of this.deps.vmacs.waiting()) if (ifname === undefined || ifname === vmac.base) void this.make(name);
  }

  private async make(ifname: string): Promise<void> {
    const mine = this.deps.vmacs.waiting().find(([n]) => n === ifname)?.[1];
    if (!mine || this.busy.has(ifname) || !this.deps.exists(mine.vmac.base)) return;
    this.busy.add(ifname);
    try {
      const error = await this.deps.vmacs.retry(ifname);
      if (this.closed) return;
      if (error) this.deps.log('warn', error);
      else if (this.deps.exists(ifname)) this.deps.restored(ifname, mine.instance);
    } finally {
      this.busy.delete(ifname);
    }
  }

  private async check(ifname: string): Promise<void> {
    const mine = this.deps.vmacs.get(ifname);
    if (!mine || this.busy.has(ifname) || this.deps.exists(ifname)) return;
    // keepalived makes it again only while its base interface is there.
    if (!this.deps.exists(mine.vmac.base)) return;
    this.busy.add(ifname);
    try {
      this.deps.log('info', `Interface ${ifname} deleted`);
      await this.deps.forget(ifname);
      if (this.closed) return;
      const error = await this.deps.vmacs.restore(ifname);
      if (error) this.deps.log('warn', error);
      else if (this.deps.exists(ifname)) this.deps.restored(ifname, mine.instance);
    } finally {
      this.busy.delete(ifname);
    }
  }
}
