// Keyword tables of the VRRP blocks. Ranges and defaults follow keepalived 2.2.7 (observed with
// `keepalived -t` where marked in ../../docs/keywords.md) and keepalived.conf(5).
import { spanOf } from '../diagnostics.js';
import type { Statement } from '../syntax.js';
import { defineBlock, keywords, SKIP_BLOCK, type BuildContext, type KeywordSpec } from '../schema.js';
import { address, bool, custom, decimal, flag, int, oneOf, script, userGroup, word, words, type Parsed } from '../values.js';
import type { Authentication, BfdInstance, Notifies, StaticTrackGroup, SyncGroup, TrackFile, TrackProcess, VrrpInstance, VrrpScript } from '../model/vrrp.js';
import { parseAddressLine, parseNameLine, parsePeerLine, parseRouteLine, parseRuleLine, parseTrackInterfaceLine, trackRefParser } from './items.js';

/** `vrrp_script NAME {`: the name is the first argument and is required. */
/**
 * A block's name from its header. `aborts`: keepalived's handler reads the name without checking
 * that it is there (vrrp_parser.c vrrp_script_handler, track_file, vrrp_track_process), so a
 * nameless block is a missing parameter and keepalived's process stops reading (-t exit 2).
 */
/**
 * `KIND NAME {`. With `aborts`, a missing name stops keepalived (exit 2); with `skips`, keepalived
 * wants exactly one word, says `skips` otherwise and skips the block (vrrp_parser.c).
 */
export function namedHeader(kind: string, opts: { aborts?: boolean; skips?: string } = {}) {
  return (st: Statement, ctx: BuildContext): { name: string } | typeof SKIP_BLOCK => {
    if (opts.skips !== undefined && st.args.length !== 1) {
      ctx.error(st.args[1] ?? st.head, 'name-missing', opts.skips, `write: ${kind} NAME {   (one word; keepalived skips this block)`);
      return SKIP_BLOCK;
    }
    if (st.args.length === 0) {
      if (opts.aborts)
        ctx.diags.error(
          st.head,
          'value-missing',
          `*** Configuration line starting \`${kind}\` is missing a parameter after keyword \`${kind}\` at word position 2`,
          {
            hint: `write: ${kind} NAME { (keepalived stops reading here and would not start)`,
            exit: 2,
          },
        );
      else ctx.error(st.head, 'name-missing', `${kind} needs a name`, `write: ${kind} NAME {`);
      return { name: '' };
    }
    return { name: st.args[0].text };
  };
}

/** `weight W [reverse]` for trackers; W limited to ±limit. */
function weightWithReverse(limit: number) {
  return custom<{ weight: number; reverse: boolean }>(`<-${limit}..${limit}> [reverse]`, (args): Parsed<{ weight: number; reverse: boolean }> => {
    const w = args[0];
    if (!w || !/^[+-]?\d+$/.test(w.text))
      return { error: `'${w?.text ?? ''}' is not a whole number`, hint: `write a weight between -${limit} and ${limit}`, word: w };
    const n = Number(w.text);
    if (Math.abs(n) > limit)
      return {
        error: `number '${w.text}' outside range [-${limit}, ${limit}]`,
        hint: `write a weight between -${limit} and ${limit}`,
        word: w,
        rule: 'value-range',
      };
    return { value: { weight: n, reverse: args[1]?.text === 'reverse' } };
  });
}

const setWeight = (v: { weight: number; reverse: boolean }, obj: { weight: number; weightReverse: boolean }): void => {
  obj.weight = v.weight;
  obj.weightReverse = v.reverse;
};

// ---- vrrp_script --------------------------------------------------------------------------

const sc = keywords<VrrpScript>();
export const vrrpScriptBlock = defineBlock<VrrpScript>({
  name: 'vrrp_script',
  doc: 'A health script whose result moves the priority of the instances that track it.',
  header: namedHeader('vrrp_script', { aborts: true }),
  keywords: [
    sc.k('script', script({ user: false }), { doc: 'Command to run; quote it when it has arguments (no shell).' }),
    // Whole seconds, as keepalived reads them: '.5' is an invalid number there, and the default stays.
    sc.k('interval', int(1, 4294), { default: 1, doc: 'Whole seconds between runs.' }),
    sc.k('timeout', int(1, 4294), { doc: 'Seconds before a run counts as failed and is killed; default the interval.' }),
    sc.k('weight', weightWithReverse(253), {
      default: 0,
      doc: 'Priority change: >0 added while OK, <0 added while failing, 0 means FAULT on failure.',
      apply: setWeight,
    }),
    sc.k('rise', int(1, 2147483647), { default: 1, doc: 'Successes in a row before the script counts as OK.' }),
    sc.k('fall', int(1, 2147483647), { default: 1, doc: 'Failures in a row before the script counts as failed.' }),
    sc.k('user', userGroup, { doc: 'Run as this user (and group) instead of script_user.' }),
    sc.k('init_fail', flag, { default: false, doc: 'Start in the failed state until the script first succeeds.' }),
  ],
  finish(obj, st, ctx) {
    if (!obj.script) ctx.error(st.head, 'script-missing', `No script set for vrrp_script ${obj.name} - removing`, 'add: script "/path/to/check"');
  },
});

// ---- track_file ---------------------------------------------------------------------------

const tf = keywords<TrackFile>();
export const trackFileBlock = defineBlock<TrackFile>({
  name: 'track_file',
  doc: 'A file holding a number; value × weight is added to the priority of the instances that track it.',
  header: namedHeader('track_file', { aborts: true }),
  keywords: [
    tf.k('file', word, { doc: 'Path of the file to watch.' }),
    tf.k('weight', weightWithReverse(2147483647), { default: 1, doc: 'Multiplier for the file value; 0 means a non-zero value is a FAULT.', apply: setWeight }),
    tf.k(
      'init_file',
      custom('[VALUE] [overwrite]', (args) => {
        const v = args.find((a) => /^[+-]?\d+$/.test(a.text));
        return { value: { value: v ? Number(v.text) : undefined, overwrite: args.some((a) => a.text === 'overwrite') } };
      }),
      { doc: 'Create the file at start-up (with VALUE, default 0); overwrite replaces an existing one.' },
    ),
  ],
  finish(obj, st, ctx) {
    if (!obj.file) ctx.error(st.head, 'file-missing-keyword', `track_file ${obj.name} has no file`, 'add: file "/etc/keepalived/track"');
  },
});

// ---- vrrp_track_process -------------------------------------------------------------------

const tp = keywords<TrackProcess>();
export const trackProcessBlock = defineBlock<TrackProcess>({
  name: 'vrrp_track_process',
  doc:
    'Processes to watch; too few (or too many) matching processes means the tracker fails. keepalived hears the ' +
    "kernel's process events at once; keepalived-ts scans /proc every second, so a change is seen up to 1 s later.",
  header: namedHeader('vrrp_track_process', { aborts: true }),
  keywords: [
    tp.k('process', words, {
      doc: 'Process name (/proc/PID/comm, at most 15 characters), or with parameters the command line to match exactly.',
    }),
    tp.k(
      'param_match',
      custom<'exact' | 'initial' | 'partial'>('[initial|partial]', (args) => {
        const w = args[0];
        if (!w) return { value: 'exact' };
        if (w.text === 'initial' || w.text === 'partial') return { value: w.text };
        return {
          error: `Invalid param_match type ${w.text} - ignoring`,
          hint: 'write param_match, param_match initial or param_match partial',
          word: w,
          rule: 'value-enum',
        };
      }),
      {
        doc: 'Match the command line: alone, parameters exactly; partial, the first ones exactly; initial, the last one may be longer.',
      },
    ),
    tp.k('weight', weightWithReverse(254), {
      default: 0,
      doc: 'Priority change while failed (or OK with reverse); 0 means FAULT.',
      apply: setWeight,
    }),
    tp.k('quorum', int(1, 65535), {
      default: 1,
      doc: 'Fewest matching processes that count as OK.',
    }),
    tp.k('quorum_max', int(0, 65535), {
      doc: 'Most matching processes that count as OK; 0 means OK only while none runs.',
    }),
    tp.k('fork_delay', decimal(0, 3600), {
      doc: 'Seconds a quorum reached by a fork waits before it counts.',
    }),
    tp.k('terminate_delay', decimal(0, 3600), {
      doc: 'Seconds a quorum lost by an exit waits before it counts.',
    }),
    tp.k('delay', decimal(0, 3600), {
      doc: 'Sets both fork_delay and terminate_delay.',
    }),
    tp.k('full_command', flag, {
      default: false,
      doc: 'Match the first word of /proc/PID/cmdline instead of the process name.',
    }),
  ],
  finish(obj, st, ctx) {
    if (!obj.process?.length) ctx.error(st.head, 'process-missing', `track process '${obj.name}' process name not specified`, 'add: process nginx');
    // keepalived compares quorum with quorum_max at whichever line comes second, and ignores it.
    const [q, qm] = [obj.spans.quorum, obj.spans.quorumMax];
    if (!q || !qm || obj.quorumMax === undefined) return;
    if (q.line < qm.line || (q.line === qm.line && q.col < qm.col)) {
      if ((obj.quorumMax > 0 || obj.quorum > 1) && obj.quorumMax < obj.quorum) {
        ctx.error(qm, 'value-range', 'quorum_max is less than quorum - ignoring', `write a quorum_max of at least ${obj.quorum}`);
        obj.quorumMax = undefined;
      }
    } else if (obj.quorum > obj.quorumMax) {
      ctx.error(q, 'value-range', 'Quorum is greater than quorum_max - ignoring', `write a quorum of at most ${obj.quorumMax}`);
      obj.quorum = 1;
    }
  },
});

// ---- bfd_instance -------------------------------------------------------------------------

const bf = keywords<BfdInstance>();
export const bfdInstanceBlock = defineBlock<BfdInstance>({
  name: 'bfd_instance',
  doc: 'An RFC 5880 BFD session whose state VRRP instances and checkers can track.',
  header: namedHeader('bfd_instance'),
  keywords: [
    bf.k('neighbor_ip', address, { aliases: ['neighbour_ip'], doc: 'Address of the BFD peer.', field: 'neighborIp' }),
    bf.k('source_ip', address, { doc: 'Local address to send from.' }),
    bf.k('min_rx', decimal(1, 4294967, 'ms'), { default: 10, doc: 'Required minimum receive interval, ms (µs resolution).' }),
    bf.k('min_tx', decimal(1, 4294967, 'ms'), { default: 10, doc: 'Desired minimum transmit interval while Up, ms (µs resolution).' }),
    bf.k('idle_tx', decimal(1000, 4294967, 'ms'), { default: 1000, doc: 'Desired minimum transmit interval while not Up, ms (RFC 5880: at least 1 s).' }),
    bf.k('multiplier', int(1, 255), { default: 5, doc: 'Detection time multiplier.' }),
    bf.k('passive', flag, { default: false, doc: 'Wait for the peer to start the session.' }),
    bf.k('ttl', int(1, 255), { notImplemented: 'BFD packets are always sent with TTL 255', doc: 'IPv4 TTL to send with (255).' }),
    bf.k('hoplimit', int(1, 255), { notImplemented: 'BFD packets are always sent with hop limit 255', doc: 'IPv6 hop limit to send with (64).' }),
    bf.k('max_hops', int(-1, 255), {
      notImplemented: 'the TTL of received BFD packets is not checked',
      doc: 'Most hops accepted from the peer; 255 or -1 turns the check off (not enforced: see README).',
    }),
    bf.k('weight', weightWithReverse(253), { default: 0, doc: 'Priority change while down; 0 means FAULT.', apply: setWeight }),
    bf.k('vrrp', flag, { default: false, doc: 'Only VRRP tracks this session.' }),
    bf.k('checker', flag, { default: false, doc: 'Only checkers track this session.' }),
  ],
});

// ---- notify keywords shared by instances and sync groups ----------------------------------

const nt = keywords<Notifies>();
const notifyKeywords: KeywordSpec[] = [
  nt.k('notify_master', script({ user: true }), { doc: 'Run on entering MASTER.' }),
  nt.k('notify_backup', script({ user: true }), { doc: 'Run on entering BACKUP.' }),
  nt.k('notify_fault', script({ user: true }), { doc: 'Run on entering FAULT.' }),
  nt.k('notify_stop', script({ user: true }), { doc: 'Run when the instance stops.' }),
  nt.k(
    'notify_deleted',
    custom<unknown>('[SCRIPT [USER [GROUP]]]', (args) => (args.length ? script({ user: true }).parse(args) : { value: true })),
    { doc: 'Send DELETED instead of FAULT when a reload removes the instance; with a script, run it.' },
  ),
  nt.k('notify', script({ user: true }), { doc: 'Run on every transition with INSTANCE|GROUP NAME STATE PRIORITY appended.' }),
  nt.k('notify_priority_changes', bool, {
    default: false,
    notImplemented: 'keepalived-ts writes no notify FIFO',
    doc: 'Also report priority changes to the notify FIFO.',
  }),
  nt.k('smtp_alert', bool, { doc: 'Send email on transitions (default: global smtp_alert_vrrp, smtp_alert, else no).' }),
];

const trackScriptList = (name: string, limit: number) =>
  defineBlock<{ items: unknown[] }>({
    name,
    doc: `One tracked object per line: NAME [weight W [reverse]].`,
    keywords: [],
    item: { field: 'items', usage: 'NAME [weight W [reverse]]', parse: trackRefParser(limit) },
  });

const listBlock = (name: string, doc: string, usage: string, parse: (st: Statement, ctx: BuildContext) => unknown) =>
  defineBlock<{ items: unknown[] }>({ name, doc, keywords: [], item: { field: 'items', usage, parse } });

export const trackInterfaceList = listBlock(
  'track_interface',
  'Interfaces whose state moves the priority or, without weight, means FAULT.',
  'IF [weight W [reverse]]',
  parseTrackInterfaceLine,
);
export const trackScriptBlock = trackScriptList('track_script', 253);
export const trackFileList = trackScriptList('track_file', 254);
export const trackProcessList = trackScriptList('track_process', 254);
export const trackBfdList = trackScriptList('track_bfd', 253);
export const nameList = (name: string, doc: string) =>
  defineBlock<{ items: unknown[] }>({ name, doc, keywords: [], item: { field: 'items', usage: 'NAME...', words: true, parse: parseNameLine } });
export const addressList = (name: string, doc: string) => listBlock(name, doc, 'IP[/LEN] [dev IF] [label L] [scope S] [brd IP] [no_track]', parseAddressLine);
export const routeList = (name: string, doc = 'Routes in `ip route` syntax, one per line.') =>
  listBlock(name, doc, '[to] PREFIX via IP dev IF ... [no_track]', parseRouteLine);
export const ruleList = (name: string, doc = 'Policy rules in `ip rule` syntax, one per line.') =>
  listBlock(name, doc, 'from PREFIX table T ... [no_track]', parseRuleLine);
/** What an instance's addresses, routes and rules make it track (resolve-vrrp.ts withAddressInterfaces). */
const TRACKED_DEV = 'the instance is FAULT while that interface is down, unless the line says no_track.';

// ---- vrrp_sync_group ----------------------------------------------------------------------

const sg = keywords<SyncGroup>();
export const syncGroupBlock = defineBlock<SyncGroup>({
  name: 'vrrp_sync_group',
  doc: 'VRRP instances that change state together.',
  header: namedHeader('vrrp_sync_group', { skips: 'vrrp_sync_group must have a name - skipping' }),
  keywords: [
    sg.b('group', nameList('group', 'The member vrrp_instance names.'), { doc: 'The member vrrp_instance names, one per line.' }),
    sg.b('track_interface', trackInterfaceList, {}),
    sg.b('track_script', trackScriptBlock, { doc: 'vrrp_script names tracked by every member.' }),
    sg.b('track_file', trackFileList, { doc: 'track_file names tracked by every member.' }),
    sg.b('track_process', trackProcessList, {
      doc: 'vrrp_track_process names tracked by every member.',
    }),
    sg.b('track_bfd', trackBfdList, { doc: 'bfd_instance names tracked by every member.' }),
    ...notifyKeywords,
    sg.k('global_tracking', flag, {
      default: false,
      // keepalived 2.2.7 reports it as a config error (-t exit 5) and sets sync_group_tracking_weight.
      check: (_v, o: SyncGroup, at, ctx) =>
        ctx.error(
          at.head,
          'deprecated-keyword',
          `(${o.name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`,
          'write sync_group_tracking_weight',
        ),
      doc: 'Deprecated spelling of sync_group_tracking_weight: keepalived reports it as an error and applies it.',
    }),
    sg.k('sync_group_tracking_weight', flag, { default: false, doc: 'Let weighted trackers of members change their priority.' }),
  ],
  finish(obj, st, ctx) {
    if (obj.group.length === 0) ctx.error(st.head, 'sync-group-empty', `vrrp_sync_group ${obj.name} has no members`, 'add: group { VI_1 VI_2 }');
  },
});

// ---- authentication -----------------------------------------------------------------------

const au = keywords<Authentication>();
export const authenticationBlock = defineBlock<Authentication>({
  name: 'authentication',
  doc: 'VRRPv2 authentication (not in RFC 3768; both peers must agree).',
  keywords: [
    au.k('auth_type', oneOf(['PASS', 'AH'] as const), { doc: 'PASS (clear text) or AH (IPsec AH).' }),
    au.k('auth_pass', word, { doc: 'The password; only the first 8 characters are used.' }),
  ],
});

// ---- vrrp_instance ------------------------------------------------------------------------

const vi = keywords<VrrpInstance>();
// keepalived reads the GARP delays as whole seconds (read_unsigned_strvec): '0.5' is invalid there.
export const garpDelay = int(0, 4294); // UINT_MAX / TIMER_HZ
export const garpRefresh = int(0, 4294967295);
// keepalived reads `all` wherever it stands (vrrp_garp_extra_if_handler).
export const garpExtraIf = custom<{ all: boolean; delay: number }>('[all] <SECONDS>', (a) => {
  const all = a.some((w) => w.text === 'all');
  const d = int(0, 86400).parse(a.filter((w) => w.text !== 'all'));
  return 'error' in d ? d : { value: { all, delay: d.value } };
});

export const vrrpInstanceBlock = defineBlock<VrrpInstance>({
  name: 'vrrp_instance',
  doc: 'One virtual router: VRID, priority, addresses and trackers.',
  header: namedHeader('vrrp_instance', { skips: 'vrrp_instance must have a name' }),
  keywords: [
    vi.k('state', oneOf(['MASTER', 'BACKUP'] as const), {
      default: 'BACKUP',
      doc: 'Initial wish; the election decides. MASTER with priority 255 starts as owner.',
    }),
    vi.k('interface', word, { doc: 'Interface the adverts go out on.' }),
    vi.k('vrf', word, { notImplemented: 'adverts and VIPs use the instance interface, not a VRF', doc: 'VRF interface to use.' }),
    vi.k('virtual_router_id', int(1, 255), { doc: 'The VRID, 1..255, the same on every router of the group. Mandatory.' }),
    vi.k('priority', int(1, 255), { default: 100, doc: 'Election priority; 255 means address owner.' }),
    vi.k('advert_int', decimal(0.01, 255), { default: 1, doc: 'Seconds between adverts (VRRPv3: centisecond resolution).' }),
    vi.k(
      'version',
      custom<2 | 3>('2|3', (args) =>
        args[0]?.text === '2' || args[0]?.text === '3'
          ? { value: Number(args[0].text) as 2 | 3 }
          : { error: `invalid VRRP version '${args[0]?.text ?? ''}'`, hint: 'write 2 or 3', word: args[0], rule: 'value-enum' },
      ),
      { doc: 'VRRP version, default global vrrp_version (2).' },
    ),
    vi.k('native_ipv6', flag, {
      default: false,
      notImplemented: 'the family comes from the first virtual address; native_ipv6 does not make the instance IPv6',
      doc: 'Deprecated: IPv6 instances are detected from their addresses.',
    }),
    vi.k('debug', int(0, 4), { doc: 'Debug level; no effect.', ignored: 'keepalived 2.2.7 only prints it in its data dump' }),
    vi.k('nopreempt', flag, { default: false, doc: 'A higher priority backup does not take over from a lower priority master.' }),
    vi.k(
      'preempt',
      custom<boolean>('', () => ({ value: false })),
      { field: 'nopreempt', doc: 'Compatibility keyword: preemption is the default.' },
    ),
    vi.k('preempt_delay', decimal(0, 1000), { default: 0, doc: 'Seconds to wait after start-up before preempting a lower priority master.' }),
    vi.k(
      'timer_expired_backup',
      custom<number | true>('[PRIORITY]', (a) => (a.length ? int(1, 254).parse(a) : { value: true })),
      { since: '2.2.8', notImplemented: 'late timers do not make the instance go BACKUP', doc: 'Go BACKUP when our own timers ran late.' },
    ),
    vi.k('unicast_src_ip', address, {
      aliases: ['mcast_src_ip'],
      // keepalived marks the instance unicast before it reads the address (mcast_src_ip does not).
      seen: (inst: VrrpInstance, st) => {
        if (st.keyword === 'unicast_src_ip') inst.unicastSrcIpAt ??= spanOf(st.head);
      },
      doc: 'Source address of adverts (default: interface primary address).',
    }),
    vi.k('mcast_dst_ip', address, { doc: 'Multicast group to send to instead of 224.0.0.18 / ff02::12.' }),
    vi.k('track_src_ip', flag, {
      default: false,
      notImplemented: 'the instance does not go FAULT when its source address disappears',
      doc: 'Go FAULT if the source address disappears.',
    }),
    vi.b('unicast_peer', listBlock('unicast_peer', 'Peers to send unicast adverts to, one per line.', 'IP [min_ttl N] [max_ttl N]', parsePeerLine), {
      default: [],
    }),
    vi.k('unicast_fault_no_peer', flag, {
      default: false,
      doc: 'Go FAULT when unicast_peer is empty, instead of falling back to multicast.',
    }),
    vi.k('unicast_ttl', int(0, 255), { doc: 'TTL of unicast adverts (default 255).' }),
    vi.k('check_unicast_src', flag, {
      default: false,
      doc: "Drop unicast adverts from addresses not in unicast_peer, or with a TTL outside that peer's min_ttl..max_ttl.",
    }),
    vi.k(
      'old_unicast_checksum',
      custom<true | 'never'>('[never]', (a) => ({ value: a[0]?.text === 'never' ? 'never' : true })),
      { notImplemented: 'VRRPv3 unicast adverts always use the current checksum', doc: 'Use the pre-1.3.6 unicast VRRPv3 checksum.' },
    ),
    vi.k('v3_checksum_as_v2', bool, { since: '2.2.8', doc: 'VRRPv3 checksum without the IPv4 pseudo-header (RFC 9568, Cisco/Juniper).' }),
    vi.b('authentication', authenticationBlock, {}),
    vi.b(
      'virtual_ipaddress',
      addressList('virtual_ipaddress', `The virtual addresses, carried in adverts. An address's interface (dev) is tracked: ${TRACKED_DEV}`),
      { default: [] },
    ),
    vi.b(
      'virtual_ipaddress_excluded',
      addressList(
        'virtual_ipaddress_excluded',
        `Addresses moved with the instance but not carried in adverts. An address's interface (dev) is tracked: ${TRACKED_DEV}`,
      ),
      {
        default: [],
      },
    ),
    vi.k('no_virtual_ipaddress', flag, { since: '2.2.8', default: false, doc: 'Allow an instance without virtual addresses.' }),
    vi.k('promote_secondaries', flag, {
      default: false,
      notImplemented: 'the interface promote_secondaries setting is left as it is',
      doc: 'Set promote_secondaries on the interface.',
    }),
    vi.b('virtual_routes', routeList('virtual_routes', `Routes in \`ip route\` syntax, one per line. A route's dev is tracked: ${TRACKED_DEV}`), {
      default: [],
    }),
    vi.b('virtual_rules', ruleList('virtual_rules', `Policy rules in \`ip rule\` syntax, one per line. A rule's iif and oif are tracked: ${TRACKED_DEV}`), {
      default: [],
    }),
    vi.k(
      'accept',
      custom<boolean>('', () => ({ value: true })),
      {
        doc: 'Accept packets to the VIPs when not the owner (default unless strict).',
      },
    ),
    vi.k(
      'no_accept',
      custom<boolean>('', () => ({ value: false })),
      { field: 'accept', doc: 'Drop packets to and from the VIPs while MASTER, unless the owner (nftables rules as keepalived sets them).' },
    ),
    vi.k('dont_track_primary', flag, {
      default: false,
      doc: 'Do not go FAULT when the instance interface (or its VMAC) goes down, nor for an address on it; a route or rule on it still counts.',
    }),
    vi.b('track_interface', trackInterfaceList, { default: [] }),
    vi.b('track_script', trackScriptBlock, { default: [], doc: 'vrrp_script names, one per line, optionally with weight W [reverse].' }),
    vi.b('track_file', trackFileList, { default: [], doc: 'track_file names, one per line, optionally with weight W [reverse].' }),
    vi.b('track_process', trackProcessList, {
      default: [],
      doc: 'vrrp_track_process names, one per line.',
    }),
    vi.b('track_bfd', trackBfdList, { default: [], doc: 'bfd_instance names, one per line.' }),
    ...notifyKeywords,
    vi.k('notify_master_rx_lower_pri', script({ user: true }), {
      doc: 'Run (with its own arguments only) when a master hears a lower priority advert.',
    }),
    vi.k('garp_master_delay', garpDelay, { doc: 'Seconds before the second gratuitous ARP burst (0: none).' }),
    vi.k('garp_master_repeat', int(1, 1000000), { doc: 'Gratuitous ARPs per burst.' }),
    vi.k('garp_lower_prio_delay', garpDelay, {
      doc: 'Delay of the second burst sent on hearing a lower priority advert as master (0: none).',
    }),
    vi.k('garp_lower_prio_repeat', int(0, 1000000), {
      doc: 'Gratuitous ARPs per VIP sent on hearing a lower priority advert as master (0: none).',
    }),
    vi.k('garp_master_refresh', garpRefresh, { doc: 'Seconds between refresh bursts while master, sent with an advert (0: off).' }),
    vi.k('garp_master_refresh_repeat', int(1, 1000000), { doc: 'Gratuitous ARPs per refresh.' }),
    vi.k('garp_extra_if', garpExtraIf, {
      deprecated: ['vmac_garp_intvl'],
      doc: 'While master, one gratuitous ARP/NA every SECONDS on each VMAC of use_vmac_addr (with `all`: on every interface of its addresses) other than the instance\u2019s own (0: off).',
    }),
    vi.k('down_timer_adverts', int(1, 100), { doc: 'Adverts missed before a backup takes over (3).' }),
    vi.k('lower_prio_no_advert', bool, { doc: 'Do not answer a lower priority advert with our own.' }),
    vi.k('higher_prio_send_advert', bool, { doc: 'On hearing a higher priority, send one advert before going backup.' }),
    vi.k('skip_check_adv_addr', bool, {
      doc: 'Skip the address list check for adverts from the current master.',
    }),
    vi.k('strict_mode', bool, {
      doc: 'RFC strict mode for this instance (see vrrp_strict).',
    }),
    vi.k('owner_ignore_adverts', flag, {
      since: '2.3.3',
      notImplemented: 'an address owner handles received adverts like any master',
      doc: 'An address owner ignores received adverts.',
    }),
    vi.k('kernel_rx_buf_size', int(0, 2147483647), {
      notImplemented: 'the socket keeps the system default receive buffer size',
      doc: 'Receive buffer size of the instance socket.',
    }),
    vi.k(
      'use_vmac',
      custom<{ name?: string; mac?: string }>('[IFNAME] [MAC]', (a) => ({
        value: { name: a.find((w) => !w.text.includes(':'))?.text, mac: a.find((w) => w.text.includes(':'))?.text },
      })),
      {
        doc: 'Use a macvlan interface (mode private) with the VRRP MAC address; the VIPs go on it, adverts and gratuitous ARPs leave from it.',
      },
    ),
    vi.k('use_vmac_addr', flag, {
      default: false,
      doc: 'A VMAC (vmac_addr_prefix.VRID, the VRRP MAC of the address family) for each other interface a VIP/eVIP names, and for eVIPs of the other family; the addresses go on it.',
    }),
    vi.k('vmac_xmit_base', flag, {
      default: false,
      doc: 'Send adverts through the base interface of the VMAC.',
    }),
    vi.k(
      'use_ipvlan',
      custom<{ name?: string; args: string[] }>('[IFNAME] [IP] [bridge|private|vepa]', (a) => ({ value: { name: a[0]?.text, args: a.map((w) => w.text) } })),
      { doc: 'Use an ipvlan interface (mode l2) with this address; the VIPs go on it.' },
    ),
    vi.k('linkbeat_use_polling', flag, {
      default: false,
      notImplemented: 'link state is read the same way for every interface',
      doc: 'Deprecated: poll link state (use global linkbeat_interfaces).',
    }),
    vi.k('lvs_sync_daemon_interface', word, { notImplemented: 'no IPVS connection sync daemon is started', doc: 'Deprecated: use global lvs_sync_daemon.' }),
  ],
});

// ---- static_ipaddress / static_routes / static_rules / track_group -----------------------

export const staticAddressBlock = addressList('static_ipaddress', 'Addresses keepalived adds at start-up and never moves.');
export const staticRoutesBlock = routeList('static_routes');
export const staticRulesBlock = ruleList('static_rules');

const tg = keywords<StaticTrackGroup>();
export const trackGroupBlock = defineBlock<StaticTrackGroup>({
  name: 'track_group',
  doc: 'Instances that go FAULT when a static address, route or rule of this group cannot be restored.',
  header: namedHeader('track_group', { skips: 'track_group must have a name - skipping' }),
  keywords: [
    tg.b('group', nameList('group', 'Member vrrp_instance names.'), {
      notImplemented: 'track_group is not applied: static addresses, routes and rules are set but not watched',
      doc: 'Member vrrp_instance names, one per line.',
    }),
  ],
});
