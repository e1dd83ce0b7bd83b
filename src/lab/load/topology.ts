// Segments, real servers and clients: who is on which wire with which address. Without
// `segments`, the wires are derived from the configs: interfaces that carry the same VRID on
// different nodes must hear each other, so they share a segment (as do interfaces of one name),
// and each member gets its unicast_src_ip or a free address in the subnet of its VIPs.
import { isIP } from 'node:net';
import type { Span } from '../../config/diagnostics.js';
import type { Fields, YMap } from './fields.js';
import { interfacesOf, type NodeFacts } from './nodes.js';
import type { LabClient, LabRealServer, Segment } from '../model/scenario.js';
import type { Y } from './yaml-tree.js';
import { LIMITS } from './limits.js';

const v4 = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const dotted = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
/** Host addresses of a subnet as numbers, IPv4 or IPv6 (BigInt either way). */
const ipToBig = (a: string): bigint => {
  if (isIP(a) === 4) return BigInt(v4(a));
  const [head, tail = ''] = a.split('::');
  const words = (x: string) => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = a.includes('::') ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  return all.reduce((n, w) => (n << 16n) | BigInt(w), 0n);
};
const bigToIp = (n: bigint, family: 4 | 6): string => {
  if (family === 4) return dotted(Number(n));
  const words = [...Array<number>(8).keys()].map((i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16));
  return new URL(`http://[${words.join(':')}]`).hostname.slice(1, -1);
};

const inSubnet = (a: string, net: string, prefix: number): boolean => {
  const family = isIP(a);
  if (!family || family !== isIP(net)) return false;
  const host = BigInt((family === 4 ? 32 : 128) - prefix);
  return ipToBig(a) >> host === ipToBig(net) >> host;
};

/** `ADDRESS:PORT` or `[IPv6]:PORT`. */
export function parseTarget(s: string): { address: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(s.trim());
  if (!m || !isIP(m[1]) || Number(m[2]) < 1 || Number(m[2]) > 65535) return undefined;
  return { address: m[1], port: Number(m[2]) };
}

function target(y: Y, f: Fields, what: string): { address: string; port: number } | undefined {
  const s = f.string(y, what);
  const t = s === undefined ? undefined : parseTarget(s);
  if (s !== undefined && !t)
    f.diags.error(y.span, 'lab-value', `${what} must be ADDRESS:PORT, got ${JSON.stringify(s)}`, { hint: 'e.g. 192.168.1.100:80 or [2001:db8::1]:80' });
  return t;
}

// ---- real servers ----

export type PendingServer = Omit<LabRealServer, 'segment'> & { segment?: string; segmentSpan?: Span };

const SERVER_KEYS = ['address', 'port', 'segment', 'up', 'body'] as const;

export function loadRealServers(y: Y, f: Fields): PendingServer[] {
  const m = f.dict(y, 'real-servers');
  const out: PendingServer[] = [];
  for (const e of m?.entries ?? []) {
    const what = `real server ${e.key}`;
    // `web1: 192.168.1.21:80` is `web1: {address: 192.168.1.21, port: 80}`.
    const s = e.value.kind === 'scalar' ? undefined : f.map(e.value, what, SERVER_KEYS);
    if (e.value.kind !== 'scalar' && !s) continue;
    const addr = s ? addressAndPort(s, f, what) : target(e.value, f, what);
    const upY = s && f.get(s, 'up');
    const bodyY = s && f.get(s, 'body');
    const segY = s && f.get(s, 'segment');
    const up = upY ? f.bool(upY, `${what}: up`) : true;
    const body = bodyY ? f.string(bodyY, `${what}: body`) : e.key;
    const segment = segY ? f.string(segY, `${what}: segment`) : undefined;
    if (!addr || up === undefined || body === undefined) continue;
    out.push({ name: e.key, ...addr, up, body, segment, segmentSpan: segY?.span, span: e.keySpan });
  }
  return out;
}

function addressAndPort(s: YMap, f: Fields, what: string): { address: string; port: number } | undefined {
  const a = f.required(s, 'address', what);
  const p = f.required(s, 'port', what);
  const address = a && f.address(a, `${what}: address`);
  const port = p && f.int(p, `${what}: port`, 1, 65535);
  return address && port ? { address, port } : undefined;
}

// ---- segments ----

const SEGMENT_KEYS = ['prefix', 'members'] as const;
const MEMBER_KEYS = ['interface', 'address'] as const;

export function loadSegments(y: Y, f: Fields, facts: readonly NodeFacts[]): Segment[] {
  const m = f.dict(y, 'segments');
  const nodes = facts.map((n) => n.node.name);
  const out: Segment[] = [];
  for (const e of m?.entries ?? []) {
    const s = f.map(e.value, `segment ${e.key}`, SEGMENT_KEYS);
    if (!s) continue;
    const prefixY = f.get(s, 'prefix');
    const prefix = prefixY ? f.int(prefixY, 'prefix', 1, 128) : 24;
    const membersY = f.required(s, 'members', `segment ${e.key}`);
    const members: Segment['members'] = [];
    for (const me of (membersY && f.dict(membersY, `members of ${e.key}`))?.entries ?? []) {
      if (f.ref({ kind: 'scalar', span: me.keySpan, value: me.key }, 'member', nodes, 'lab-unknown-node') === undefined) continue;
      const mm = f.map(me.value, `member ${me.key}`, MEMBER_KEYS);
      const iy = mm && f.required(mm, 'interface', `member ${me.key}`);
      const ay = mm && f.required(mm, 'address', `member ${me.key}`);
      const iface = iy && f.string(iy, 'interface');
      const address = ay && f.address(ay, 'address');
      if (iface && address) members.push({ node: me.key, interface: iface, address });
      const src =
        iface &&
        address &&
        unicastSrc(
          facts.find((n) => n.node.name === me.key)!,
          iface,
          address,
        );
      if (src && src !== address)
        f.diags.warning(ay.span, 'lab-topology', `${me.key}'s config sends from unicast_src_ip ${src} on ${iface}, not from ${address}`, {
          hint: `use address ${src}`,
        });
    }
    if (prefix !== undefined) out.push({ name: e.key, prefix, members, span: e.keySpan });
  }
  return out;
}

/** The unicast_src_ip an instance on `iface` sends from, of the family of `like` when given. */
function unicastSrc(n: NodeFacts, iface: string, like?: string): string | undefined {
  const family = like === undefined ? undefined : isIP(like);
  return n.config.resolved.vrrpInstances.find((i) => i.interface === iface && i.unicastSrcIp && (family === undefined || isIP(i.unicastSrcIp) === family))
    ?.unicastSrcIp;
}

/** The VIPs of a family a node carries on an interface (a VIP's `dev` overrides its instance's;
 * a VIP on the instance's VMAC or ipvlan is on the interface that sits on). */
function vipsOn(n: NodeFacts, iface: string, family: 4 | 6): { address: string; prefix: number }[] {
  return n.config.resolved.vrrpInstances.flatMap((i) =>
    i.virtualIpaddress.filter((v) => v.family === family && (v.dev === i.vmac?.ifname ? i.vmac.base : v.dev) === iface),
  );
}

/**
 * One segment per group of (node, interface) pairs joined by a shared interface name or VRID:
 * "lan" when there is one group, else each is named after its first interface.
 */
export function defaultSegments(facts: readonly NodeFacts[], servers: readonly PendingServer[], f: Fields, at: Span): Segment[] {
  const keys: { node: NodeFacts; iface: string }[] = [];
  for (const n of facts) for (const iface of new Set(n.config.resolved.vrrpInstances.map((i) => i.interface))) keys.push({ node: n, iface });
  for (const n of facts) if (!keys.some((k) => k.node === n)) keys.push({ node: n, iface: interfacesOf(n.config)[0] });
  // Union-find over the pairs, joined by interface name and by VRID.
  const parent = keys.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  const first = new Map<string, number>();
  const join = (key: string, i: number): void => {
    const j = first.get(key);
    if (j === undefined) first.set(key, i);
    else parent[root(i)] = root(j);
  };
  keys.forEach((k, i) => {
    join(`if ${k.iface}`, i);
    for (const inst of k.node.config.resolved.vrrpInstances) {
      if (inst.interface === k.iface && inst.virtualRouterId !== 0) join(`vrid ${inst.virtualRouterId}`, i);
    }
  });
  const groups = new Map<number, typeof keys>();
  keys.forEach((k, i) => groups.set(root(i), [...(groups.get(root(i)) ?? []), k]));

  const taken = new Set<string>([
    ...facts.flatMap((n) => n.config.vrrpInstances.flatMap((i) => i.virtualIpaddress.map((v) => v.address))),
    ...servers.map((s) => s.address),
  ]);
  for (const k of keys) {
    const src = unicastSrc(k.node, k.iface);
    if (src) taken.add(src);
  }
  const out: Segment[] = [];
  for (const group of groups.values()) {
    const name = groups.size === 1 ? 'lan' : uniqueName(group[0].iface, out);
    // The subnet of the first IPv4 VIP or unicast_src_ip, else of the first IPv6 one.
    const anchorOf = (family: 4 | 6) =>
      group.flatMap((k) => vipsOn(k.node, k.iface, family))[0] ??
      group
        .map((k) => unicastSrc(k.node, k.iface))
        .filter((a) => isIP(a ?? '') === family)
        .map((address) => ({ address: address!, prefix: family === 4 ? 24 : 64 }))[0];
    const anchor = anchorOf(4) ?? anchorOf(6);
    if (!anchor) {
      f.diags.error(
        at,
        'lab-topology',
        `cannot choose addresses for ${group.map((k) => `${k.node.node.name}:${k.iface}`).join(', ')}: no VIP or unicast_src_ip there`,
        { hint: 'describe the wiring under `segments`' },
      );
      continue;
    }
    const family = isIP(anchor.address) as 4 | 6;
    const bits = family === 4 ? 32 : 128;
    // A VIP without a prefix is a host route: the subnet it sits in is then taken to be a /24 (/64).
    const prefix = anchor.prefix >= bits - 1 ? (family === 4 ? 24 : 64) : anchor.prefix;
    const size = 1n << BigInt(bits - prefix);
    const net = ipToBig(anchor.address) - (ipToBig(anchor.address) % size);
    // IPv4 leaves out the broadcast address; IPv6 has none.
    const last = net + size - (family === 4 ? 1n : 0n);
    let next = net + 1n;
    const members: Segment['members'] = [];
    for (const k of group) {
      let address = unicastSrc(k.node, k.iface);
      if (address && isIP(address) !== family) address = undefined;
      if (!address) {
        while (next < last && taken.has(bigToIp(next, family))) next++;
        if (next >= last) {
          f.diags.error(at, 'lab-topology', `no free address left in ${bigToIp(net, family)}/${prefix} for ${k.node.node.name}:${k.iface}`, {
            hint: 'describe the wiring under `segments`',
          });
          continue;
        }
        address = bigToIp(next, family);
        taken.add(address);
      }
      members.push({ node: k.node.node.name, interface: k.iface, address });
    }
    out.push({ name, prefix, members, span: at });
  }
  return out;
}

function uniqueName(base: string, taken: readonly Segment[]): string {
  let name = base;
  for (let i = 2; taken.some((s) => s.name === name); i++) name = `${base}-${i}`;
  return name;
}

/** Checks that only make sense once the wiring is known; derived wiring covers every instance by construction. */
export function checkSegments(segments: readonly Segment[], facts: readonly NodeFacts[], f: Fields, explicit: boolean): void {
  for (const s of segments) {
    const seen = new Map<string, string>();
    for (const m of s.members) {
      const key = `${m.node}:${m.interface}`;
      if (seen.has(m.address)) f.diags.error(s.span, 'lab-duplicate', `${key} and ${seen.get(m.address)} both have address ${m.address} on segment ${s.name}`);
      seen.set(m.address, key);
    }
  }
  for (const n of explicit ? facts : []) {
    for (const inst of n.config.resolved.vrrpInstances) {
      const iface = inst.interface;
      if (!segments.some((s) => s.members.some((m) => m.node === n.node.name && m.interface === iface))) {
        f.diags.warning(n.node.span, 'lab-topology', `${n.node.name}'s ${inst.name} runs on ${iface}, which is on no segment: it hears no peer`, {
          hint: `add ${n.node.name}: {interface: ${iface}, ...} to a segment's members`,
        });
      }
    }
  }
}

/** The segment a server or client is on: as stated, else the one whose subnet holds its address, else the only one. */
export function segmentFor(
  address: string,
  stated: string | undefined,
  statedSpan: Span | undefined,
  segments: readonly Segment[],
  f: Fields,
  what: string,
  span: Span,
  /** False when the segments come from node configs that did not load: then nothing is said. */
  segmentsKnown = true,
): string | undefined {
  const names = segments.map((s) => s.name);
  if (stated !== undefined) return f.ref({ kind: 'scalar', span: statedSpan ?? span, value: stated }, `${what}: segment`, names, 'lab-unknown-name');
  const holding = segments.filter((s) => s.members.some((m) => inSubnet(address, m.address, s.prefix)));
  if (holding.length === 1) return holding[0].name;
  if (segments.length === 1) return segments[0].name;
  if (!segmentsKnown) return undefined;
  f.diags.error(span, 'lab-missing-key', `${what}: cannot tell which segment ${address} is on`, {
    hint: names.length ? `add segment: ${names.join(' or ')}` : 'declare the segments under segments:, then add segment: NAME',
  });
  return undefined;
}

// ---- clients ----

const CLIENT_KEYS = ['target', 'rate', 'segment'] as const;

/** `facts`: undefined when a node's config did not load (nothing is checked against them). */
export function loadClients(y: Y, f: Fields, segments: readonly Segment[], facts: readonly NodeFacts[] | undefined, segmentsStated: boolean): LabClient[] {
  const m = f.dict(y, 'clients');
  const out: LabClient[] = [];
  let total = 0;
  for (const e of m?.entries ?? []) {
    const what = `client ${e.key}`;
    const c = f.map(e.value, what, CLIENT_KEYS);
    const ty = c && f.required(c, 'target', what);
    const t = ty && target(ty, f, `${what}: target`);
    const rateY = c && f.get(c, 'rate');
    let rate = rateY ? f.positive(rateY, `${what}: rate`) : 10;
    if (rate !== undefined && rate > LIMITS.rate) {
      f.diags.error(rateY!.span, 'lab-limit', `${what}: rate ${rate} is above ${LIMITS.rate} requests a second, the most a client sends`);
      rate = undefined;
    } else if (rate !== undefined && total + rate > LIMITS.rate) {
      // The sim plays every request: the sum, not each client, decides how long a run takes.
      f.diags.error(rateY?.span ?? e.keySpan, 'lab-limit', `${what}: the clients would send ${total + rate} requests a second together, above ${LIMITS.rate}`, {
        hint: 'lower the rates',
      });
      rate = undefined;
    }
    if (rate !== undefined) total += rate;
    const segY = c && f.get(c, 'segment');
    if (!t || rate === undefined) continue;
    const segment = segmentFor(t.address, segY && f.string(segY, `${what}: segment`), segY?.span, segments, f, what, e.keySpan, !!facts || segmentsStated);
    if (facts && !facts.some((n) => n.config.virtualServers.some((vs) => vs.address === t.address && vs.port === t.port))) {
      f.diags.warning(ty.span, 'lab-not-in-config', `no node has a virtual_server ${t.address} ${t.port}: ${e.key}'s requests go nowhere`);
    }
    if (segment) out.push({ name: e.key, segment, target: t, rate, span: e.keySpan });
  }
  return out;
}
