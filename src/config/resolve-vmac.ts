// use_vmac and use_ipvlan as keepalived 2.2.7 resolves them (vrrp_parser.c vrrp_vmac_handler,
// vrrp_ipvlan_handler; vrrp.c create_vmac_name): the interface's name, MAC and mode, decided once
// here so the daemon only makes what the model says.
import { ipFamily } from '../core/address.js';
import type { ResolvedVmac, VirtualAddress, VrrpInstance } from './model/index.js';

/** IFNAMSIZ - 1. */
const IFNAME_MAX = 15;

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** keepalived's VMAC address: 00:00:5e:00:01:VRID (IPv4), 00:00:5e:00:02:VRID (IPv6). */
export function vrrpMac(vrid: number, family: 4 | 6): string {
  return `00:00:5e:00:0${family === 6 ? 2 : 1}:${hex2(vrid & 0xff)}`;
}

/** A written MAC: six octets as written (lower case, two digits each), five take the VRID as the sixth. */
function writtenMac(text: string, vrid: number): string | undefined {
  const parts = text.replace(/:$/, '').split(':');
  if ((parts.length !== 5 && parts.length !== 6) || parts.some((p) => !/^[0-9a-f]{1,2}$/i.test(p))) return undefined;
  const octets = parts.map((p) => parseInt(p, 16));
  if (octets.length === 5) octets.push(vrid & 0xff);
  // keepalived ignores a multicast address and the RFC 5798 ones (their VRID must be the instance's).
  if (octets[0] & 1) return undefined;
  if (octets[0] === 0 && octets[1] === 0 && octets[2] === 0x5e && octets[3] === 0 && (octets[4] === 1 || octets[4] === 2)) return undefined;
  return octets.map(hex2).join(':');
}

/**
 * keepalived's create_vmac_name: PREFIX.VRID, else PREFIXn.VRID for n = 1, 2, ... (IPv6 tries
 * PREFIX6.VRID first), the prefix shortened to fit 15 characters; `taken` holds the names other
 * instances have.
 */
export function vmacName(prefix: string, vrid: number, family: 4 | 6, taken: ReadonlySet<string>): string {
  const fit = (num: string): string => {
    const tail = `${num}.${vrid}`;
    return `${prefix.slice(0, Math.max(0, IFNAME_MAX - tail.length))}${tail}`;
  };
  let name = fit('');
  let num = 0;
  for (let tries = 0; taken.has(name) && tries < 1000; tries++) {
    if (family === 6) num = num === 0 ? 6 : num === 6 ? 1 : num + 1 === 6 ? 7 : num + 1;
    else num++;
    name = fit(String(num));
  }
  return name;
}

/** The instances' VMAC and ipvlan interfaces, by instance name, names unique across the instances. */
export function resolveVmacs(
  instances: readonly VrrpInstance[],
  interfaceOf: (inst: VrrpInstance) => string,
  familyOf: (inst: VrrpInstance) => 4 | 6,
  prefix: string | undefined,
): Map<string, ResolvedVmac> {
  const out = new Map<string, ResolvedVmac>();
  // Written names first: keepalived takes them as it reads, and generates the others afterwards.
  const taken = new Set<string>();
  const nameOf = new Map<VrrpInstance, string | undefined>();
  for (const inst of instances) {
    const written = inst.useVmac ? inst.useVmac.name : inst.useIpvlan ? ipvlanArgs(inst.useIpvlan.args).name : undefined;
    const ok = written !== undefined && written.length <= IFNAME_MAX && !taken.has(written) ? written : undefined;
    if (ok) taken.add(ok);
    nameOf.set(inst, ok);
  }
  for (const inst of instances) {
    if (!inst.useVmac && !inst.useIpvlan) continue;
    const vrid = inst.virtualRouterId ?? 0;
    const family = familyOf(inst);
    let ifname = nameOf.get(inst);
    if (!ifname) {
      ifname = vmacName(prefix ?? 'vrrp', vrid, family, taken);
      taken.add(ifname);
    }
    const base = interfaceOf(inst);
    if (inst.useVmac) {
      const mac = (inst.useVmac.mac && writtenMac(inst.useVmac.mac, vrid)) || vrrpMac(vrid, family);
      out.set(inst.name, { kind: 'macvlan', ifname, base, mac, mode: 'private', family, xmitBase: inst.vmacXmitBase });
    } else if (inst.useIpvlan) {
      const a = ipvlanArgs(inst.useIpvlan.args);
      const address = a.address && a.address.family === family ? `${a.address.ip}/${a.address.prefix}` : undefined;
      out.set(inst.name, { kind: 'ipvlan', ifname, base, mode: a.mode ?? 'bridge', ...(address ? { address } : {}), family, xmitBase: inst.vmacXmitBase });
    }
  }
  return out;
}

/** use_ipvlan's words: a mode, an address (with its prefix, else /32 or /128), and a name (the rest). */
export function ipvlanArgs(args: readonly string[]): { name?: string; address?: { ip: string; prefix: number; family: 4 | 6 }; mode?: ResolvedVmac['mode'] } {
  const out: ReturnType<typeof ipvlanArgs> = {};
  for (const w of args) {
    if (w === 'bridge' || w === 'private' || w === 'vepa') {
      out.mode ??= w;
      continue;
    }
    const [ip, len] = w.split('/');
    const fam = ipFamily(ip);
    if (fam === 4 || fam === 6) {
      const max = fam === 4 ? 32 : 128;
      const prefix = len === undefined ? max : Number(len);
      if (!out.address && Number.isInteger(prefix) && prefix >= 0 && prefix <= max) out.address = { ip, prefix, family: fam };
      continue;
    }
    out.name ??= w;
  }
  return out;
}

/**
 * The VMACs of use_vmac_addr (and of use_vmac on an address) as keepalived 2.2.7 makes them
 * (vrrp.c vrrp_complete_instance, vrrp_if.c if_get_by_vmac): one per base interface and MAC,
 * shared by the addresses that need it, named vmac_addr_prefix (else vmac_prefix, else vrrp).VRID.
 */
export class AddressVmacs {
  private readonly made = new Map<string, ResolvedVmac>();

  constructor(
    private readonly prefix: string,
    /** Names taken: the instances' own VMACs, and these as they are made. */
    private readonly taken: Set<string>,
    own: Iterable<ResolvedVmac>,
  ) {
    for (const v of own) if (v.kind === 'macvlan') this.made.set(`${v.base}/${v.mac}`, v);
  }

  /** The VMAC on `base` for an address of `family` of VRID `vrid` (`mac`: use_vmac's written one). */
  get(vrid: number, family: 4 | 6, base: string, mac: string | undefined): ResolvedVmac {
    const address = mac ?? vrrpMac(vrid, family);
    const key = `${base}/${address}`;
    const known = this.made.get(key);
    if (known) return known;
    const ifname = vmacName(this.prefix, vrid, family, this.taken);
    this.taken.add(ifname);
    const v: ResolvedVmac = { kind: 'macvlan', ifname, base, mac: address, mode: 'private', family, xmitBase: false };
    this.made.set(key, v);
    return v;
  }
}

/** Where one VIP/eVIP goes: keepalived's rules for use_vmac, use_vmac_addr and an address's use_vmac. */
export function addressDevice(
  v: VirtualAddress,
  inst: { interface: string; family: 4 | 6; vrid: number; vmac?: ResolvedVmac; useVmacAddr: boolean; mac?: string },
  pool: AddressVmacs,
): { dev: string; vmac?: ResolvedVmac } {
  const onInstance = !v.dev || v.dev === inst.interface;
  const sameFamily = v.family === inst.family;
  const instanceVmac = inst.vmac?.kind === 'macvlan';
  // An address's use_vmac counts only where neither the instance's VMAC nor use_vmac_addr decides.
  const ownVmac = v.flags.includes('use_vmac') && !(onInstance && instanceVmac && sameFamily) && !((!onInstance || !sameFamily) && inst.useVmacAddr);
  let dev: string;
  let needsVmac: boolean;
  if (onInstance) {
    // An ipvlan takes the instance's addresses as its VMAC does (see README).
    if (inst.vmac && sameFamily) return { dev: inst.vmac.ifname };
    dev = inst.interface;
    needsVmac = ownVmac || (inst.useVmacAddr && !sameFamily);
  } else {
    dev = v.dev ?? inst.interface;
    needsVmac = ownVmac || inst.useVmacAddr;
  }
  if (!needsVmac) return { dev };
  const vmac = pool.get(inst.vrid, v.family, dev, inst.mac);
  return { dev: vmac.ifname, vmac };
}

/**
 * garp_extra_if as keepalived 2.2.7 sends it (vrrp.c vrrp_send_vmac_update): the first address on
 * each interface other than the instance's own (its own too with vmac_xmit_base), VMACs only
 * unless `all`; off when the instance has no address on another interface, or (without `all`)
 * none on another VMAC (vrrp_complete_instance).
 */
export function extraIfAddresses<A extends { dev: string }>(
  addresses: readonly A[],
  own: string,
  ours: ReadonlySet<string>,
  all: boolean,
  xmitBase: boolean,
): A[] {
  const extra = addresses.filter((a) => a.dev !== own);
  const extraVmac = extra.some((a) => ours.has(a.dev));
  if (!extra.length || (!extraVmac && !all)) return [];
  const seen = new Set<string>();
  return addresses.filter((a) => {
    if ((!ours.has(a.dev) && !all) || (a.dev === own && !xmitBase) || seen.has(a.dev)) return false;
    seen.add(a.dev);
    return true;
  });
}
