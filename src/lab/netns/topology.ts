// The netns lab's wiring: a switch namespace holds one bridge per segment; every node, real
// server, client and VIP probe has its own namespace with one veth per segment it joins, the
// inside end named as the configuration expects (eth0...). A partition moves the groups' bridge
// ports onto per-group bridges, which reach the rest of the segment but not each other.
import { performance } from 'node:perf_hooks';
import type { Segment } from '../model/scenario.js';
import { runOk, type NetnsHost } from './host.js';

export interface SegRt {
  seg: Segment;
  bridge: string;
  /** Endpoint (node, real server, client, probe) name -> its port on the bridge. */
  ports: Map<string, string>;
  /** While partitioned: a bridge per group, and its uplink (an isolated port on `bridge`). */
  groupBridges: string[];
  uplinks: string[];
}

export const ipToInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** The highest host address of the /prefix subnet of `member` that is not in `used` (then it is). */
export function freeAddressIn(used: Set<string>, member: string, prefix: number): string {
  const size = 2 ** (32 - prefix);
  const net = ipToInt(member) - (ipToInt(member) % size);
  for (let a = net + size - 2; a > net; a--) {
    const ip = intToIp(a);
    if (!used.has(ip)) {
      used.add(ip);
      return ip;
    }
  }
  throw new Error(`netns backend: no free address left in ${intToIp(net)}/${prefix} for the lab's clients and probes`);
}

/** IPv4 VIPs per segment: an instance's VIPs live on the segment of its interface. */
export function vipsBySegment(
  nodes: Iterable<{ conf: { instances: { interface: string; vips: string[] }[] }; ifaces: Map<string, string> }>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rt of nodes) {
    for (const inst of rt.conf.instances) {
      const seg = [...rt.ifaces].find(([, ifname]) => ifname === inst.interface)?.[0];
      if (!seg) continue;
      const list = out.get(seg) ?? [];
      for (const v of inst.vips) if (!list.includes(v)) list.push(v);
      out.set(seg, list);
    }
  }
  for (const [k, v] of out) if (!v.length) out.delete(k);
  return out;
}

/** A partition built and waiting for its moment (Topology.preparePartition). */
export interface PartitionPlan {
  seg: SegRt;
  bridges: string[];
  uplinks: string[];
  /** `ip -batch` lines moving each group's ports onto its bridge. */
  moves: string[];
}

export class Topology {
  /** Partitions prepared so far: numbers their bridges, which may coexist for a moment. */
  private partitions = 0;
  switchNs = '';
  readonly segments = new Map<string, SegRt>();
  /** Addresses taken on any segment (members, real servers, VIPs, targets, and those handed out). */
  readonly used = new Set<string>();
  private portCount = 0;
  /** The inside end of every veth, to wait for. */
  private readonly inside: { ns: string; ifname: string }[] = [];

  constructor(private readonly host: NetnsHost) {}

  /** The switch namespace and a bridge per segment. */
  async createSwitch(segments: Segment[]): Promise<void> {
    this.switchNs = await this.host.addNamespace('sw');
    for (const [i, seg] of segments.entries()) {
      const bridge = `b${i}`;
      await this.addBridge(bridge);
      this.segments.set(seg.name, { seg, bridge, ports: new Map(), groupBridges: [], uplinks: [] });
    }
  }

  /** A veth from `ns` (inside end `ifname`, with address/prefix) to a port on the segment's bridge. */
  async attach(segName: string, endpoint: string, ns: string, ifname: string, address: string, prefix: number): Promise<void> {
    const ip = (args: string[]) => runOk('ip', args);
    const seg = this.segments.get(segName);
    if (!seg) throw new Error(`netns backend: ${endpoint} is on segment ${segName}, which the scenario does not define`);
    const port = `p${++this.portCount}`;
    await ip(['-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
    await ip(['-n', this.switchNs, 'link', 'set', port, 'master', seg.bridge, 'up']);
    await ip(['-n', ns, 'addr', 'add', `${address}/${prefix}`, 'dev', ifname]);
    await ip(['-n', ns, 'link', 'set', ifname, 'up']);
    seg.ports.set(endpoint, port);
    this.inside.push({ ns, ifname });
  }

  /** veth carrier comes up asynchronously; keepalived starts in FAULT without it. */
  async waitUp(): Promise<void> {
    for (const x of this.inside) await this.host.waitUp(x.ns, x.ifname);
  }

  /** The highest host address of the segment's subnet that nobody uses (clients and probes). */
  freeAddress(segName: string): string {
    const seg = this.segments.get(segName)?.seg;
    if (!seg || !seg.members.length) throw new Error(`netns backend: segment ${segName} has no members to take a subnet from`);
    return freeAddressIn(this.used, seg.members[0].address, seg.prefix);
  }

  segment(name: string): SegRt {
    const seg = this.segments.get(name);
    if (!seg) throw new Error(`netns backend: no segment ${name}`);
    return seg;
  }

  /**
   * Each group gets its own bridge, joined to the segment's by an uplink that is an isolated
   * port there: isolated ports do not forward to each other, so the groups are cut off from one
   * another while everyone left on the segment's bridge (clients, real servers, the VIP probe)
   * still reaches every group, as on sim.
   *
   * Built ahead of the cut (preparePartition), with the segment still whole or still in its
   * previous partition; then cut() moves every port in one `ip -batch`, so that the partition
   * happens at once, when the scenario says, rather than over a dozen commands on a busy host.
   */
  async preparePartition(segName: string, groups: string[][]): Promise<PartitionPlan> {
    const ip = (args: string[]) => runOk('ip', args);
    const seg = this.segment(segName);
    const n = this.partitions++;
    const plan: PartitionPlan = { seg, bridges: [], uplinks: [], moves: [] };
    for (const [gi, group] of groups.entries()) {
      const bridge = `${seg.bridge}p${n}g${gi}`;
      const up = `${seg.bridge}p${n}u${gi}`;
      const down = `${seg.bridge}p${n}d${gi}`;
      await this.addBridge(bridge);
      plan.bridges.push(bridge);
      await ip(['-n', this.switchNs, 'link', 'add', up, 'type', 'veth', 'peer', 'name', down]);
      plan.uplinks.push(up);
      await ip(['-n', this.switchNs, 'link', 'set', down, 'master', bridge, 'up']);
      await ip(['-n', this.switchNs, 'link', 'set', up, 'master', seg.bridge, 'up']);
      await runOk('ip', ['netns', 'exec', this.switchNs, 'bridge', 'link', 'set', 'dev', up, 'isolated', 'on']);
      for (const name of group) {
        const port = seg.ports.get(name);
        if (!port) throw new Error(`netns backend: partition of ${segName}: ${name} is not on that segment`);
        plan.moves.push(`link set ${port} master ${bridge}`);
      }
    }
    return plan;
  }

  /** The cut: the ports move to the plan's bridges; then a previous partition's bridges go.
   * Resolves with the performance.now() just after the ports moved: when the cut took effect. */
  async cut(plan: PartitionPlan): Promise<number> {
    const { seg } = plan;
    const old = [...seg.uplinks, ...seg.groupBridges];
    const at = await this.movePorts(plan.moves);
    for (const l of old) await runOk('ip', ['-n', this.switchNs, 'link', 'del', l]);
    seg.groupBridges.splice(0, seg.groupBridges.length, ...plan.bridges);
    seg.uplinks.splice(0, seg.uplinks.length, ...plan.uplinks);
    return at;
  }

  async partition(segName: string, groups: string[][]): Promise<number> {
    return this.cut(await this.preparePartition(segName, groups));
  }

  /** `ip link set PORT master BRIDGE` lines in one batch; the performance.now() once they are done. */
  private async movePorts(moves: string[]): Promise<number> {
    if (moves.length) await runOk('ip', ['-n', this.switchNs, '-batch', '-'], { input: `${moves.join('\n')}\n` });
    return performance.now();
  }

  /** Every port back on the segment's bridge and the groups' uplinks gone (in one batch), then
   * the group bridges removed. Resolves with the performance.now() just after the batch: the
   * segment's bridge learnt each group's MACs on its uplink, and until the uplink goes (its
   * entries with it) a unicast advert to a MAC of the other group went there and was lost, up
   * to an advert_int after the ports were back. */
  async heal(seg: SegRt): Promise<number> {
    if (!seg.groupBridges.length) return performance.now();
    // Deleting one end of a veth deletes the pair.
    const moves = [...seg.ports.values()].map((port) => `link set ${port} master ${seg.bridge}`);
    const healed = await this.movePorts([...moves, ...seg.uplinks.map((l) => `link del ${l}`)]);
    for (const l of seg.groupBridges) await runOk('ip', ['-n', this.switchNs, 'link', 'del', l]);
    seg.groupBridges.length = 0;
    seg.uplinks.length = 0;
    return healed;
  }

  private async addBridge(name: string): Promise<void> {
    const ip = (args: string[]) => runOk('ip', args);
    await ip(['-n', this.switchNs, 'link', 'add', name, 'type', 'bridge']);
    // VRRP's 224.0.0.18 is flooded anyway; no snooping keeps every other group simple too.
    await ip(['-n', this.switchNs, 'link', 'set', name, 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(['-n', this.switchNs, 'link', 'set', name, 'up']);
  }
}
