// What keepalived does to the VRRP configuration after reading it (its block-end handlers and
// vrrp_complete_init): inherit global defaults, derive implicit values, resolve references, and
// report, with keepalived's own wording, what it clears or ignores. The result is the model the
// VRRP engine runs, so every adjustment here is one keepalived makes too.
import { kept } from '../core/records.js';
import { blockEndOf } from './builder.js';
import type { Span } from './diagnostics.js';
import type { RuleId } from './rules.js';
import type { BuildContext } from './schema.js';
import { AddressVmacs, addressDevice, extraIfAddresses, resolveVmacs } from './resolve-vmac.js';
import type {
  ResolvedTrack,
  ResolvedTrackFile,
  ResolvedVmac,
  ResolvedVirtualAddress,
  ResolvedVrrpInstance,
  ResolvedVrrpScript,
  ScriptRef,
  SyncGroup,
  TrackRef,
  VirtualAddress,
  VrrpInstance,
  WrittenConfig,
} from './model/index.js';

/** The VRRP version an instance runs: its own, else 3 for IPv6 addresses, else the global one. */
export function vrrpVersionOf(inst: VrrpInstance, cfg: WrittenConfig): 2 | 3 {
  if (inst.version) return inst.version;
  if (inst.virtualIpaddress[0]?.family === 6) return 3;
  return cfg.globalDefs.vrrpVersion;
}

/** Whether an instance runs in strict mode: its own strict_mode, else global vrrp_strict. */
const strictOf = (inst: VrrpInstance, cfg: WrittenConfig): boolean => inst.strictMode ?? cfg.globalDefs.vrrpStrict;

type TrackKind = 'script' | 'file' | 'process' | 'bfd';
const DEFINE_WITH: Record<TrackKind, string> = { script: 'vrrp_script', file: 'track_file', process: 'vrrp_track_process', bfd: 'bfd_instance' };
const TRACK_LISTS = [
  ['script', 'trackScript'],
  ['file', 'trackFile'],
  ['process', 'trackProcess'],
  ['bfd', 'trackBfd'],
] as const;
type Tracking = Pick<VrrpInstance, 'name' | 'trackInterface' | 'trackScript' | 'trackFile' | 'trackProcess' | 'trackBfd'>;
/** Where each tracked kind's objects are defined, by name (a name defined twice has both places). */
type TrackDefs = Record<TrackKind, Map<string, Span[]>>;

function trackDefs(defs: Record<TrackKind, { name: string; span: Span }[]>): TrackDefs {
  const index = (list: { name: string; span: Span }[]): Map<string, Span[]> => {
    const m = new Map<string, Span[]>();
    for (const d of list) {
      const at = m.get(d.name);
      if (at) at.push(d.span);
      else m.set(d.name, [d.span]);
    }
    return m;
  };
  return { script: index(defs.script), file: index(defs.file), process: index(defs.process), bfd: index(defs.bfd) };
}

/** Was `r`'s object defined before the line that tracks it (in another file, or above it)? */
function definedBefore(byName: Map<string, Span[]>, r: TrackRef): boolean {
  const at = byName.get(r.name);
  if (!at) return false;
  for (const d of at) if (!(d.file === r.span.file && d.line > r.span.line)) return true;
  return false;
}

/**
 * An instance's or sync group's track lists as keepalived keeps them (vrrp_track.c,
 * track_file.c): it looks each name up while it reads the line, so an object written further
 * down the same file is not known yet ("not found, ignoring..."), and a name tracked twice keeps
 * its first line ("duplicate track_X - ignoring").
 */
function resolveTracking(owner: Tracking, defs: TrackDefs, ctx: BuildContext, dropped: ReadonlySet<string>): void {
  const dedupe = <T extends { name: string; span: Span }>(kind: string, refs: T[], known: (r: T) => boolean): T[] => {
    if (refs.length === 0) return refs;
    let seen: Set<string> | undefined;
    return kept(refs, (r) => {
      if (!known(r)) return false;
      if (refs.length === 1) return true;
      seen ??= new Set();
      if (!seen.has(r.name)) {
        seen.add(r.name);
        return true;
      }
      ctx.error(r.span, 'track-duplicate', `(${owner.name}) duplicate track_${kind} ${r.name} - ignoring`, `remove the second ${r.name} line`);
      return false;
    });
  };
  if (owner.trackInterface.length > 1) owner.trackInterface = dedupe('interface', owner.trackInterface, () => true);
  for (const [kind, list] of TRACK_LISTS) {
    const refs = owner[list];
    if (refs.length === 0) continue;
    const byName = defs[kind];
    // The usual list: one name, defined above; kept as it is, without the closures below.
    if (refs.length === 1 && definedBefore(byName, refs[0])) continue;
    owner[list] = dedupe(kind, refs, (r) => {
      if (definedBefore(byName, r)) return true;
      const names = [...byName.keys()];
      const later = byName.has(r.name);
      ctx.error(
        r.span,
        'track-missing',
        `(${owner.name}) track ${kind} ${r.name} not found, ignoring...`,
        kind === 'script' && dropped.has(r.name)
          ? `vrrp_script ${r.name} was removed: its default script user could not be set (see its '}')`
          : later
            ? `keepalived looks ${r.name} up as it reads this line: move ${DEFINE_WITH[kind]} ${r.name} above it`
            : names.length
              ? `define it with ${DEFINE_WITH[kind]} ${r.name} { ... } or use one of: ${names.join(', ')}`
              : `define it with ${DEFINE_WITH[kind]} ${r.name} { ... }`,
      );
      return false;
    });
  }
}

/** The Linux kernel's IFNAMSIZ less the terminating NUL. */
const IFNAME_MAX = 15;

/**
 * keepalived's checks of one instance's options that need nothing but the config (vrrp_parser.c's
 * block-end handler through `ctx`, and vrrp.c's vrrp_complete_instance through `complete`), with
 * its wording and its fix.
 */
function checkInstanceOptions(inst: VrrpInstance, cfg: WrittenConfig, ctx: BuildContext, complete: BuildContext): void {
  const n = inst.name;
  const where = (k: string): Span => inst.spans[k] ?? inst.span;
  const strict = strictOf(inst, cfg);
  if (inst.interface !== undefined && inst.interface.length > IFNAME_MAX) {
    ctx.error(
      where('interface'),
      'interface-name-long',
      `Interface name '${inst.interface}' too long - ignoring`,
      `interface names have at most ${IFNAME_MAX} characters`,
    );
  }
  // Checked at the instance's '}' by keepalived: the finding runs from the keyword to there.
  const toEnd = (at: Span): { endLine?: number } => {
    const end = blockEndOf(inst.span);
    return end && end.file === at.file && end.line > at.line ? { endLine: end.line } : {};
  };
  const unicast = inst.unicastPeer.length > 0 || inst.spans.unicastPeer !== undefined;
  if (unicast && (inst.useVmac || inst.useIpvlan) && inst.interface !== undefined && !inst.vmacXmitBase) {
    const at = where('unicastPeer');
    ctx.diags.error(at, 'vmac-unicast', `(${n}) unicast with use_vmac requires vmac_xmit_base - setting`, { hint: 'add vmac_xmit_base', ...toEnd(at) });
    inst.vmacXmitBase = true;
  }
  if (inst.unicastTtl !== undefined && inst.unicastPeer.length === 0) {
    const at = where('unicastTtl');
    ctx.diags.error(at, 'unicast-ttl-no-peer', `(${n}): Cannot use unicast_ttl without unicast peers - resetting`, {
      hint: 'remove unicast_ttl, or add unicast_peer { ... }',
      ...toEnd(at),
    });
    inst.unicastTtl = undefined;
  }
  const auth = inst.authentication;
  if (auth?.authType !== undefined) {
    const at = auth.spans.authType ?? where('authentication');
    let why: string | undefined;
    if (strict) why = `(${n}) Strict mode does not support authentication. Ignoring.`;
    else if (vrrpVersionOf(inst, cfg) === 3) why = `(${n}) VRRP version 3 does not support authentication. Ignoring.`;
    else if (!auth.authPass) why = `(${n}) Authentication specified but no password given. Ignoring`;
    if (why) {
      complete.error(
        at,
        'auth-ignored',
        why,
        strict || !auth.authPass ? 'remove the authentication block' : 'remove the authentication block, or use version 2',
      );
      inst.authentication = undefined;
    }
  }
  // keepalived's VRRP_FLAG_UNICAST_CONFIGURED: any of these asks for unicast; with no peer,
  // keepalived falls back to multicast (unicast_fault_no_peer: FAULT instead, said at run time).
  const unicastAt = inst.spans.unicastPeer ?? inst.unicastSrcIpAt ?? inst.spans.checkUnicastSrc ?? inst.spans.oldUnicastChecksum;
  if (unicastAt && inst.unicastPeer.length === 0 && !inst.unicastFaultNoPeer) {
    complete.error(
      unicastAt,
      'unicast-no-peers',
      `(${n}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`,
      'add unicast_peer { IP }, or remove the unicast keywords to use multicast',
    );
  }
  if (strict && inst.accept && inst.priority !== 255 && vrrpVersionOf(inst, cfg) === 2) {
    complete.error(
      where('accept'),
      'strict-accept-v2',
      `(${n}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting`,
      'remove accept, or use version 3',
    );
    inst.accept = false;
  }
  if (strict && inst.useVmac && inst.vmacXmitBase) {
    complete.error(
      where('vmacXmitBase'),
      'strict-vmac-xmit-base',
      `(${n}) xmit_base is incompatible with strict mode - resetting`,
      'remove vmac_xmit_base, or vrrp_strict',
    );
    inst.vmacXmitBase = false;
  }
  const own = inst.interface ?? cfg.globalDefs.defaultInterface;
  if (own !== undefined) {
    inst.trackInterface = kept(inst.trackInterface, (t) => {
      if (t.name !== own) return true;
      complete.error(
        t.span,
        'track-own-interface',
        `(${n}) Ignoring track_interface ${own} since own interface`,
        'an instance always tracks its own interface',
      );
      return false;
    });
  }
}

/** vrrp_complete_instance, first among the state checks: under vrrp_strict only the address
 * owner starts MASTER. Its reset comes before the nopreempt and preempt_delay checks. */
function checkStrictState(inst: VrrpInstance, cfg: WrittenConfig, complete: BuildContext): void {
  if (strictOf(inst, cfg) && (inst.state === 'MASTER') !== (inst.priority === 255)) {
    const state = inst.priority === 255 ? 'MASTER' : 'BACKUP';
    complete.error(
      inst.spans.state ?? inst.span,
      'strict-state-owner',
      `(${inst.name}) State MASTER must match being address owner`,
      `under vrrp_strict only the address owner (priority 255) starts as MASTER; starting as ${state}`,
    );
    inst.state = state;
  }
}

/**
 * What keepalived's vrrp_complete_init says after reading: vrrp_complete_instance for each
 * instance in turn, then the checks across instances (VRID conflicts). It stops at the first
 * instance it cannot complete (no VIP where one is required): the VRRP process exits there, so
 * nothing after that is said, of that instance or of any later one. The checks of that phase
 * report through this context; those made while reading use the plain one.
 */
class Completion implements BuildContext {
  private ended = false;
  constructor(private readonly ctx: BuildContext) {}
  get diags(): BuildContext['diags'] {
    return this.ctx.diags;
  }
  /** keepalived cannot complete an instance: it says why, and from here on nothing. Its VRRP
   * process exits there, and a daemon starting with this config with it. */
  fail(at: Span, rule: RuleId, message: string, hint: string): void {
    this.refuse(at, rule, message, hint);
    this.ended = true;
  }
  /** A finding after which keepalived's VRRP process still checks on, then exits. */
  refuse(at: Span, rule: RuleId, message: string, hint: string): void {
    if (!this.ended) this.ctx.diags.error(at, rule, message, { hint, stopsVrrp: true });
  }
  error(at: Span, rule: RuleId, message: string, hint?: string): void {
    if (!this.ended) this.ctx.error(at, rule, message, hint);
  }
  warning(at: Span, rule: RuleId, message: string, hint?: string): void {
    if (!this.ended) this.ctx.warning(at, rule, message, hint);
  }
}

/** `dropped`: vrrp_scripts keepalived removed while reading (their track_script lines say "not found"). */
export function resolveVrrp(cfg: WrittenConfig, ctx: BuildContext, dropped: ReadonlySet<string> = new Set()): void {
  // A vrrp_script without a script is removed (keepalived: "No script set ... - removing"); one
  // without a name was never made (its header is a missing parameter).
  cfg.vrrpScripts = cfg.vrrpScripts.filter((s) => s.script !== undefined && s.name !== '');
  const defs = trackDefs({ script: cfg.vrrpScripts, file: cfg.trackFiles, process: cfg.trackProcesses, bfd: cfg.bfdInstances });
  const complete = new Completion(ctx);

  // keepalived's chk_min_cfg, over every instance before any is completed: the first one without
  // a VRID or an interface (2.2.7 wants one even for unicast) ends its checks.
  for (const inst of cfg.vrrpInstances) {
    if (inst.virtualRouterId === undefined) {
      complete.fail(
        inst.span,
        'vrid-missing',
        `(${inst.name}) the virtual router id must be set`,
        'add: virtual_router_id 51 (1..255, the same on every router of the pair)',
      );
    } else if (inst.interface === undefined) {
      complete.fail(
        inst.span,
        'interface-none',
        `(${inst.name}) Unknown interface!`,
        'add: interface eth0 (where the adverts go out; keepalived 2.2.7 wants one for unicast too)',
      );
    } else continue;
    break;
  }

  for (const inst of cfg.vrrpInstances) {
    const at = inst.span;
    const where = (k: string): Span => inst.spans[k] ?? at;
    // keepalived: state MASTER with no priority makes the instance the address owner.
    if (!inst.spans.priority && inst.state === 'MASTER') inst.priority = 255;

    // One address family per instance; the first VIP decides.
    const fam = inst.virtualIpaddress[0]?.family;
    inst.virtualIpaddress = kept(inst.virtualIpaddress, (v) => {
      if (v.family === fam) return true;
      ctx.error(
        v.span,
        'vip-family',
        `(${inst.name}): address family must match VRRP instance [${v.address}] - ignoring`,
        'put addresses of the other family in virtual_ipaddress_excluded or another instance',
      );
      return false;
    });
    if (inst.virtualIpaddress.length === 0 && !inst.noVirtualIpaddress) {
      // keepalived's wording: required with VRRPv3 or strict mode, sensible otherwise.
      const required = vrrpVersionOf(inst, cfg) === 3 || strictOf(inst, cfg);
      const hint = 'add virtual_ipaddress { ... }, or no_virtual_ipaddress if that is intended';
      if (required) complete.fail(at, 'vip-none', `(${inst.name}) No VIP specified; at least one is required`, hint);
      else complete.error(at, 'vip-none', `(${inst.name}) No VIP specified; at least one is sensible`, hint);
    }
    checkStrictState(inst, cfg, complete);

    inst.version = vrrpVersionOf(inst, cfg);
    if (inst.version === 2 && !Number.isInteger(inst.advertInt)) {
      const rounded = Math.max(1, Math.round(inst.advertInt));
      complete.error(
        where('advertInt'),
        'advert-int-v2',
        `(${inst.name}) VRRPv2 advertisement interval ${inst.advertInt}s must be an integer. rounding to ${rounded}s`,
        'use whole seconds with VRRPv2, or set version 3 for sub-second adverts',
      );
      inst.advertInt = rounded;
    } else if (inst.version === 3) {
      const cs = Math.round(inst.advertInt * 100);
      if (cs > 4095) {
        complete.error(
          where('advertInt'),
          'advert-int-v3',
          `(${inst.name}) VRRPv3 advertisement interval ${inst.advertInt}s is above 40.95s; using 40.95s`,
          'VRRPv3 carries the interval in 12 bits of centiseconds',
        );
        inst.advertInt = 40.95;
      } else inst.advertInt = Math.max(1, cs) / 100;
    }

    // keepalived checks the owner first: its reset makes the MASTER warning below moot.
    if (inst.priority === 255 && inst.nopreempt) {
      complete.error(
        where('nopreempt'),
        'owner-nopreempt',
        `(${inst.name}) nopreempt is incompatible with priority 255. resetting nopreempt`,
        'an address owner always preempts; give it a priority below 255',
      );
      inst.nopreempt = false;
    }

    if (inst.state === 'MASTER' && inst.nopreempt) {
      complete.error(
        where('nopreempt'),
        'nopreempt-master',
        `(${inst.name}) Warning - nopreempt will not work with initial state MASTER - clearing`,
        'use state BACKUP on every router when you want nopreempt',
      );
      inst.nopreempt = false;
    }
    if (inst.state === 'MASTER' && inst.preemptDelay > 0) {
      complete.error(
        where('preemptDelay'),
        'preempt-delay-master',
        `(${inst.name}) Warning - preempt delay will not work with initial state MASTER - clearing`,
        'use state BACKUP with preempt_delay',
      );
      inst.preemptDelay = 0;
    }
    checkInstanceOptions(inst, cfg, ctx, complete);
    if (inst.state === 'MASTER' && inst.authentication?.authType === 'AH' && inst.priority !== 255) {
      complete.error(
        where('state'),
        'master-ah',
        `(${inst.name}) Initial state master is incompatible with AH authentication - clearing`,
        'use state BACKUP with AH authentication',
      );
      inst.state = 'BACKUP';
    }
    for (const r of inst.virtualRoutes) {
      if (!r.dev && !r.noTrack) {
        ctx.error(r.span, 'route-no-interface', `Warning - cannot track route ${r.to} with no interface specified, not tracking`, 'add dev IF, or no_track');
        r.noTrack = true;
      }
    }
    if (inst.lvsSyncDaemonInterface !== undefined) {
      ctx.error(
        where('lvsSyncDaemonInterface'),
        'deprecated-keyword',
        `(${inst.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon`,
        `write in global_defs: lvs_sync_daemon ${inst.lvsSyncDaemonInterface} ${inst.name}`,
      );
    }

    const auth = inst.authentication;
    const pass = auth?.authPass;
    if (auth && pass !== undefined && pass.length > 8) {
      ctx.error(
        auth.spans.authPass ?? at,
        'auth-pass-long',
        `(${inst.name}) Truncating auth_pass to 8 characters`,
        `VRRP carries 8 characters: '${pass.slice(0, 8)}' is what peers compare`,
      );
      auth.authPass = pass.slice(0, 8);
    }

    resolveTracking(inst, defs, ctx, dropped);
  }

  for (const sg of cfg.syncGroups) resolveTracking(sg, defs, ctx, dropped);
  const groupOf = resolveSyncGroups(cfg, ctx);
  checkIgnoredWeights(cfg, groupOf, complete);
  checkTrackedTwice(cfg, complete);
  checkDuplicateVrids(cfg, complete);
  numberRules(cfg, ctx);
}

/**
 * keepalived's add_vrrp_to_interface(): an interface a member tracks (its own, unless
 * dont_track_primary, or a track_interface line) that its sync group tracks too is reported, and
 * the group's weight applies.
 */
function checkTrackedTwice(cfg: WrittenConfig, ctx: BuildContext): void {
  if (cfg.syncGroups.length === 0) return;
  const byName = new Map<string, VrrpInstance>();
  for (const i of cfg.vrrpInstances) if (!byName.has(i.name)) byName.set(i.name, i);
  for (const sg of cfg.syncGroups) {
    for (const member of sg.group) {
      const inst = byName.get(member);
      if (!inst) continue;
      const own = inst.dontTrackPrimary ? undefined : (inst.interface ?? cfg.globalDefs.defaultInterface);
      for (const t of sg.trackInterface) {
        if (t.name !== own && !inst.trackInterface.some((i) => i.name === t.name)) continue;
        ctx.error(
          t.span,
          'track-interface-twice',
          `(${inst.name}) track_interface ${t.name} is configured on VRRP instance and sync group. Remove vrrp instance or sync group config`,
          t.name === own
            ? `${t.name} is ${inst.name}'s own interface, which it always tracks`
            : `remove ${t.name} from ${inst.name}'s track_interface or from the group's`,
        );
      }
    }
  }
}

/** keepalived numbers rules without a preference downwards from 16384, in config order, and says so. */
function numberRules(cfg: WrittenConfig, ctx: BuildContext): void {
  const rules = cfg.staticRules.filter((r) => r.preference === undefined);
  for (const i of cfg.vrrpInstances) for (const r of i.virtualRules) if (r.preference === undefined) rules.push(r);
  if (rules.length === 0) return;
  rules.sort((a, b) => (a.span.file === b.span.file ? a.span.line - b.span.line : 0));
  let next = 16384;
  for (const r of rules) {
    r.preference = next--;
    ctx.error(
      r.span,
      'rule-no-preference',
      `Rule has no preference specified - setting to ${r.preference}. This is probably not what you want.`,
      'add preference N to each rule',
    );
  }
}

/** Checks each group's members; returns the group of each instance that is in one. */
function resolveSyncGroups(cfg: WrittenConfig, ctx: BuildContext): Map<string, SyncGroup> {
  const names = new Set(cfg.vrrpInstances.map((i) => i.name));
  const memberOf = new Map<string, SyncGroup>();
  for (const sg of cfg.syncGroups) {
    sg.group = sg.group.filter((m) => {
      if (!names.has(m)) {
        ctx.error(
          sg.spans.group ?? sg.span,
          'sync-group-member-missing',
          `Virtual router ${m} specified in sync group ${sg.name} doesn't exist - ignoring`,
          `define vrrp_instance ${m} or remove it from the group`,
        );
        return false;
      }
      const other = memberOf.get(m);
      if (other) {
        ctx.error(
          sg.spans.group ?? sg.span,
          'sync-group-member-twice',
          `VRRP instance ${m} cannot be in sync group ${sg.name}: it is already in sync group ${other.name}`,
        );
        return false;
      }
      memberOf.set(m, sg);
      return true;
    });
    if (sg.group.length === 1) {
      ctx.error(
        sg.span,
        'sync-group-single',
        `Sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`,
        'a sync group moves two or more instances together; remove it or add members',
      );
    }
  }
  return memberOf;
}

/**
 * keepalived vrrp_complete_instance: the priority of a sync group member (without the group's
 * sync_group_tracking_weight) and of an address owner never moves, so each weighted tracker is
 * reported and set aside. A member keeps a weighted interface at weight 0 (its fall is a FAULT);
 * the owner stops tracking it. Both drop weighted scripts and bfds, and a weighted file unless its
 * weight is 1 (the default), which becomes 0. A group's own trackers are not the member's.
 */
function checkIgnoredWeights(cfg: WrittenConfig, groupOf: ReadonlyMap<string, SyncGroup>, ctx: BuildContext): void {
  for (const inst of cfg.vrrpInstances) {
    const group = groupOf.get(inst.name);
    const sync = group !== undefined && !group.syncGroupTrackingWeight && !group.globalTracking;
    if (!sync && inst.priority !== 255) continue;
    const n = inst.name;
    const rule = sync ? 'sync-weighted-tracker' : 'owner-weighted-tracker';
    const dueTo = sync ? 'SYNC group' : 'address_owner';
    const hint = sync
      ? `add sync_group_tracking_weight to sync group ${group.name}, or give the tracker weight 0`
      : 'give the owner weight 0 trackers, or a priority below 255';
    const weightOf = (r: TrackRef, own: readonly { name: string; weight: number }[]): number => r.weight ?? own.find((o) => o.name === r.name)?.weight ?? 0;
    inst.trackInterface = kept(inst.trackInterface, (t) => {
      if (!t.weight) return true;
      ctx.error(t.span, rule, `(${n}) ignoring ${t.name} tracked interface ${sync ? 'weight due to SYNC group' : 'due to address owner'}`, hint);
      if (!sync) return false;
      t.weight = 0;
      return true;
    });
    inst.trackScript = kept(inst.trackScript, (r) => {
      if (weightOf(r, cfg.vrrpScripts) === 0) return true;
      ctx.error(r.span, rule, `(${n}) ignoring tracked script ${r.name} with weights due to ${dueTo}`, hint);
      return false;
    });
    inst.trackFile = kept(inst.trackFile, (r) => {
      const w = weightOf(r, cfg.trackFiles);
      if (w === 0) return true;
      if (w === 1) {
        ctx.error(r.span, rule, `(${n}) ignoring weight from tracked file ${r.name} due to ${dueTo}. specify weight 0`, hint);
        r.weight = 0;
        return true;
      }
      ctx.error(r.span, rule, `(${n}) ignoring tracked file ${r.name} with weight ${w} due to ${dueTo}`, hint);
      return false;
    });
    inst.trackBfd = kept(inst.trackBfd, (r) => {
      const w = weightOf(r, cfg.bfdInstances);
      if (w === 0) return true;
      ctx.error(r.span, rule, `(${n}) ignoring tracked bfd ${r.name} with weight ${w} due to ${dueTo}`, hint);
      return false;
    });
  }
}

/** An instance's address family: its first VIP's, IPv4 without one. */
const familyOf = (inst: VrrpInstance): 4 | 6 => inst.virtualIpaddress[0]?.family ?? 4;

/**
 * keepalived's check_vrid_conflicts: it reports every conflict, then its VRRP process exits.
 * Multicasting instances conflict on one interface and group; unicasting ones (with peers) when
 * they send from one address to a peer in common. Unicast and multicast are apart.
 */
function checkDuplicateVrids(cfg: WrittenConfig, complete: Completion): void {
  const g = cfg.globalDefs;
  const multicast = new Map<string, VrrpInstance>();
  const unicast = new Map<string, VrrpInstance[]>();
  for (const inst of cfg.vrrpInstances) {
    if (inst.virtualRouterId === undefined) continue;
    const fam = familyOf(inst);
    const at = inst.spans.virtualRouterId ?? inst.span;
    const hint = `give ${inst.name} a virtual_router_id of its own`;
    if (inst.unicastPeer.length === 0) {
      const group = inst.mcastDstIp ?? (fam === 4 ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6);
      const key = `${inst.interface ?? ''}|${fam}|${inst.virtualRouterId}|${group}`;
      const first = multicast.get(key);
      if (first) {
        const message = `${first.name} and ${inst.name} both use VRID ${inst.virtualRouterId} with IPv${fam} on interface ${inst.interface ?? '(none)'}`;
        complete.refuse(at, 'vrid-duplicate', message, hint);
      } else multicast.set(key, inst);
      continue;
    }
    // The source: unicast_src_ip, else the interface's own address (the same for one interface;
    // against a configured one it is not known here, and keepalived then sees no conflict either).
    const key = `${fam}|${inst.virtualRouterId}|${inst.interface ?? ''}`;
    const source = inst.unicastSrcIp ?? `interface ${inst.interface ?? ''}`;
    const peers = new Set(inst.unicastPeer.map((p) => p.address));
    const earlier = unicast.get(key) ?? [];
    for (const other of earlier) {
      if ((other.unicastSrcIp ?? `interface ${other.interface ?? ''}`) !== source) continue;
      if (!other.unicastPeer.some((p) => peers.has(p.address))) continue;
      complete.refuse(at, 'vrid-duplicate', `(${other.name}) duplicate VRID conflict with ${inst.name} VRID ${inst.virtualRouterId}`, hint);
    }
    earlier.push(inst);
    unicast.set(key, earlier);
  }
}

/** The notify keywords of instances and sync groups that name a script. */
export const NOTIFY_KEYS = ['notifyMaster', 'notifyBackup', 'notifyFault', 'notifyStop', 'notify', 'notifyMasterRxLowerPri', 'notifyDeleted'] as const;

/** Names of the vrrp_scripts, track_files or bfd_instances that an instance or a sync group tracks. */
export function trackedNames(cfg: WrittenConfig, key: 'trackScript' | 'trackFile' | 'trackProcess' | 'trackBfd'): Set<string> {
  const names = new Set<string>();
  for (const list of [cfg.vrrpInstances, cfg.syncGroups]) for (const o of list) for (const t of o[key]) names.add(t.name);
  return names;
}

/** Every script the VRRP side would run, with where it was configured. */
export function vrrpScriptsInUse(cfg: WrittenConfig): { script: ScriptRef; at: Span; what: string }[] {
  const out: { script: ScriptRef; at: Span; what: string }[] = [];
  const tracked = trackedNames(cfg, 'trackScript');
  for (const s of cfg.vrrpScripts)
    if (s.script && tracked.has(s.name)) out.push({ script: s.script, at: s.spans.script ?? s.span, what: `vrrp_script ${s.name}` });
  for (const o of [...cfg.vrrpInstances, ...cfg.syncGroups]) {
    for (const k of NOTIFY_KEYS) {
      const v = (o as unknown as Record<string, ScriptRef | true | undefined>)[k];
      if (v && v !== true) out.push({ script: v, at: o.spans[k] ?? o.span, what: `${o.name} ${k}` });
    }
  }
  for (const k of ['startupScript', 'shutdownScript', 'notifyFifoScript', 'vrrpNotifyFifoScript', 'lvsNotifyFifoScript'] as const) {
    const v = cfg.globalDefs[k];
    if (v) out.push({ script: v, at: cfg.globalDefs.spans[k] ?? cfg.globalDefs.span, what: `global_defs ${k}` });
  }
  return out;
}

// ---- inheritance -------------------------------------------------------------------------------

/** The instances as they run: what each inherits from global_defs, and its trackers' weights, filled in once. */
export function resolveVrrpInstances(cfg: WrittenConfig): ResolvedVrrpInstance[] {
  const g = cfg.globalDefs;
  const vmacs = resolveVmacs(cfg.vrrpInstances, (inst) => inst.interface ?? g.defaultInterface, familyOf, g.vmacPrefix);
  const pool = new AddressVmacs(g.vmacAddrPrefix ?? g.vmacPrefix ?? 'vrrp', new Set([...vmacs.values()].map((v) => v.ifname)), vmacs.values());
  // Each instance's sync group, the first that lists it (one lookup each, not a scan of every group).
  const groupOf = new Map<string, SyncGroup>();
  for (const sg of cfg.syncGroups) for (const m of sg.group) if (!groupOf.has(m)) groupOf.set(m, sg);
  return cfg.vrrpInstances.map((inst) => {
    const ifname = inst.interface ?? g.defaultInterface;
    const family = familyOf(inst);
    const vmac = vmacs.get(inst.name);
    const vrid = inst.virtualRouterId ?? 0;
    // keepalived: an address with no interface, or the instance's, goes on its VMAC/ipvlan when
    // of its family; use_vmac_addr (or the address's use_vmac) puts the others on VMACs of their own.
    const placement = {
      interface: ifname,
      family,
      vrid,
      vmac,
      useVmacAddr: inst.useVmacAddr,
      mac: vmac?.kind === 'macvlan' && inst.useVmac?.mac ? vmac.mac : undefined,
    };
    const addressVmacs = new Map<string, ResolvedVmac>();
    const withDev = (v: VirtualAddress): ResolvedVirtualAddress => {
      const at = addressDevice(v, placement, pool);
      if (at.vmac && at.vmac !== vmac) addressVmacs.set(at.vmac.ifname, at.vmac);
      return { ...v, dev: at.dev };
    };
    const virtualIpaddress = inst.virtualIpaddress.map(withDev);
    const virtualIpaddressExcluded = inst.virtualIpaddressExcluded.map(withDev);
    // garp_extra_if: the instance's own (0 turns it off), else the global one.
    const extra = inst.garpExtraIf ?? g.vrrpGarpExtraIf;
    const ours = new Set([...(vmac ? [vmac.ifname] : []), ...addressVmacs.keys()]);
    const extraAddresses = extra?.delay
      ? extraIfAddresses([...virtualIpaddress, ...virtualIpaddressExcluded], vmac?.ifname ?? ifname, ours, extra.all, inst.vmacXmitBase)
      : [];
    const garpMasterDelay = inst.garpMasterDelay ?? g.vrrpGarpMasterDelay;
    const garpMasterRepeat = inst.garpMasterRepeat ?? g.vrrpGarpMasterRepeat;
    const strictMode = strictOf(inst, cfg);
    const group = groupOf.get(inst.name);
    return {
      ...inst,
      virtualRouterId: inst.virtualRouterId ?? 0,
      interface: ifname,
      sendInterface: vmac && !vmac.xmitBase ? vmac.ifname : ifname,
      ...(vmac ? { vmac } : {}),
      // keepalived (vrrp_ipvlan_handler): the ipvlan's address is the adverts' source unless one is set.
      ...(vmac?.address && !inst.unicastSrcIp ? { unicastSrcIp: vmac.address.split('/')[0] } : {}),
      version: vrrpVersionOf(inst, cfg),
      family,
      virtualIpaddress,
      virtualIpaddressExcluded,
      addressVmacs: [...addressVmacs.values()],
      ...(extra?.delay && extraAddresses.length ? { extraIfGarp: { intervalS: extra.delay, addresses: extraAddresses } } : {}),
      unicastPeer: inst.unicastPeer.map((p) => ({ ...p, minTtl: p.minTtl ?? 0, maxTtl: p.maxTtl ?? 255 })),
      mcastGroup: inst.mcastDstIp ?? (family === 4 ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6),
      garpMasterDelay,
      garpMasterRepeat,
      // keepalived vrrp_complete_init / vrrp_complete_instance: the global lower-priority values
      // default to the global master ones, an instance's to the global ones, or to none in strict mode.
      garpLowerPrioDelay: inst.garpLowerPrioDelay ?? (strictMode ? 0 : (g.vrrpGarpLowerPrioDelay ?? g.vrrpGarpMasterDelay)),
      garpLowerPrioRepeat: inst.garpLowerPrioRepeat ?? (strictMode ? 0 : (g.vrrpGarpLowerPrioRepeat ?? g.vrrpGarpMasterRepeat)),
      garpMasterRefresh: inst.garpMasterRefresh ?? g.vrrpGarpMasterRefresh,
      garpMasterRefreshRepeat: inst.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
      downTimerAdverts: inst.downTimerAdverts ?? g.vrrpDownTimerAdverts,
      lowerPrioNoAdvert: inst.lowerPrioNoAdvert ?? g.vrrpLowerPrioNoAdvert ?? false,
      higherPrioSendAdvert: inst.higherPrioSendAdvert ?? g.vrrpHigherPrioSendAdvert ?? false,
      skipCheckAdvAddr: inst.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr ?? false,
      strictMode,
      checkUnicastSrc: inst.checkUnicastSrc || g.vrrpCheckUnicastSrc,
      v3ChecksumAsV2: inst.v3ChecksumAsV2 ?? g.v3ChecksumAsV2 ?? false,
      accept: inst.accept ?? (!strictMode || inst.priority === 255),
      ...(group ? { syncGroup: group.name } : {}),
      // keepalived vrrp_complete_instance: no peers and unicast_fault_no_peer is a config fault.
      ...(inst.unicastFaultNoPeer && inst.unicastPeer.length === 0 ? { configFault: 'Cannot use unicast without any peers - going to fault state' } : {}),
      tracks: withAddressInterfaces(
        resolveTracks(cfg, inst, group),
        inst,
        vmac && !vmac.xmitBase ? vmac.ifname : ifname,
        [ifname, ...(vmac ? [vmac.ifname] : [])],
        [...virtualIpaddress, ...virtualIpaddressExcluded],
      ),
      written: inst,
    };
  });
}

/**
 * What an instance tracks, its own then its sync group's, as keepalived weighs it: the track
 * line's weight (with its reverse), else the tracked object's weight with its weight_reverse
 * swapped by the line's reverse, else 0. track_interface has no object weight.
 */
function resolveTracks(cfg: WrittenConfig, inst: VrrpInstance, group: SyncGroup | undefined): ResolvedTrack[] {
  const out: ResolvedTrack[] = [];
  // global_tracking is keepalived's old spelling of sync_group_tracking_weight.
  const memberIgnores = group && !group.syncGroupTrackingWeight && !group.globalTracking ? `member of sync group ${group.name}` : undefined;
  const objects = {
    script: cfg.vrrpScripts,
    process: cfg.trackProcesses,
    bfd: cfg.bfdInstances,
    file: cfg.trackFiles,
  };
  const add = (kind: ResolvedTrack['kind'], refs: { name: string; weight?: number; reverse: boolean; span: Span }[], viaGroup?: string): void => {
    for (const r of refs) {
      const o = kind === 'interface' ? undefined : objects[kind].find((x) => x.name === r.name);
      const base = { weight: o?.weight ?? 0, reverse: o?.weightReverse ?? false };
      const weight = r.weight ?? base.weight;
      const reverse = r.weight !== undefined ? r.reverse : base.reverse !== r.reverse;
      const t: ResolvedTrack = { kind, name: r.name, weight, reverse, at: r.span, viaGroup };
      if (weight !== 0 && !viaGroup && memberIgnores) t.ignoredWeight = memberIgnores;
      if (weight !== 0 && inst.priority === 255) t.ignoredWeight = 'address owner (priority 255)';
      out.push(t);
    }
  };
  add('script', inst.trackScript);
  add('interface', inst.trackInterface);
  add('process', inst.trackProcess);
  add('bfd', inst.trackBfd);
  add('file', inst.trackFile);
  if (group) {
    add('script', group.trackScript, group.name);
    add('interface', group.trackInterface, group.name);
    add('process', group.trackProcess, group.name);
    add('bfd', group.trackBfd, group.name);
    add('file', group.trackFile, group.name);
  }
  return out;
}

/**
 * keepalived vrrp_complete_instance: the interface of each VIP and eVIP, of each virtual route
 * (dev) and of each virtual rule (iif, oif) is tracked unless the line says no_track, with weight
 * 0 (down: FAULT), also where track_interface gave it a weight (add_vrrp_to_interface). With
 * dont_track_primary an address on the instance's own interface or its VMAC does not count; a
 * route or rule there does. `primary` (the link the instance follows anyway) is left out unless
 * dont_track_primary.
 */
function withAddressInterfaces(
  tracks: ResolvedTrack[],
  inst: VrrpInstance,
  primary: string,
  own: readonly string[],
  addresses: readonly ResolvedVirtualAddress[],
): ResolvedTrack[] {
  const named = new Map<string, Span>();
  for (const a of addresses) if (!a.flags.includes('no_track') && !(inst.dontTrackPrimary && own.includes(a.dev))) named.set(a.dev, a.span);
  for (const r of inst.virtualRoutes) if (r.dev && !r.noTrack) named.set(r.dev, r.span);
  for (const r of inst.virtualRules) if (!r.noTrack) for (const dev of ruleInterfaces(r.args)) named.set(dev, r.span);
  if (!inst.dontTrackPrimary) named.delete(primary);
  if (!named.size) return tracks;
  const out = tracks.map((t) => (t.kind === 'interface' && named.has(t.name) ? { ...t, weight: 0, reverse: false } : t));
  for (const [name, at] of named)
    if (!out.some((t) => t.kind === 'interface' && t.name === name)) out.push({ kind: 'interface', name, weight: 0, reverse: false, at });
  return out;
}

/** The interfaces an `ip rule` line names: iif (dev) and oif. */
function ruleInterfaces(args: readonly string[]): string[] {
  return args.flatMap((w, i) => ((w === 'iif' || w === 'dev' || w === 'oif') && args[i + 1] ? [args[i + 1]] : []));
}

/** The vrrp_scripts as they run: each with its script and its timeout (the interval when unset). */
export function resolveVrrpScripts(cfg: WrittenConfig): ResolvedVrrpScript[] {
  // Object.assign, not a spread: V8 gives each spread copy of these objects its own hidden class
  // (measured: ~350 bytes more per script, which a ~SEQ line multiplies by a million).
  return cfg.vrrpScripts.flatMap((s) => (s.script ? [Object.assign({}, s, { script: s.script, timeout: s.timeout ?? s.interval })] : []));
}

/** The track_files as they run: those with a file (the others track nothing), init_file's value 0 when unset. */
export function resolveTrackFiles(cfg: WrittenConfig): ResolvedTrackFile[] {
  return cfg.trackFiles.flatMap((f) => {
    if (f.file === undefined) return [];
    const { initFile, ...rest } = f;
    return [{ ...rest, file: f.file, ...(initFile ? { initFile: { value: initFile.value ?? 0, overwrite: initFile.overwrite } } : {}) }];
  });
}
