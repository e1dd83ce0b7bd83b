// Line parsers for list blocks: one address, peer, route, rule or tracked object per line.
import { spanOf } from '../diagnostics.js';
import type { BuildContext } from '../schema.js';
import type { Statement, Word } from '../syntax.js';
import { parseIp } from '../values.js';
import type { TrackRef } from '../model/common.js';
import type { RouteSpec, RuleSpec, TrackInterface, UnicastPeer, VirtualAddress } from '../model/vrrp.js';

const wordsOf = (st: Statement): Word[] => [st.head, ...st.args];

const SCOPES = ['site', 'link', 'host', 'nowhere', 'global'];
const ADDR_FLAGS = ['home', '-nodad', 'nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'no_track', 'use_vmac'];
const ADDR_OPTIONS = ['brd', 'broadcast', 'dev', 'scope', 'label', 'peer', 'preferred_lft', 'track_group'];

/** `IP[/MASK] [brd IP|-|+] [dev IF] [scope S] [label L] [peer IP] [flags...]` */
export function parseAddressLine(st: Statement, ctx: BuildContext): VirtualAddress | undefined {
  const [first, ...rest] = wordsOf(st);
  const ip = parseIp(first, { prefix: true });
  if ('error' in ip) {
    ctx.error(first, 'address-invalid', ip.error, 'write one address per line: 192.168.1.100/24 dev eth0 label eth0:vip');
    return undefined;
  }
  const a: VirtualAddress = {
    span: spanOf(st),
    address: ip.value.address,
    family: ip.value.family,
    prefix: ip.value.prefix ?? (ip.value.family === 4 ? 32 : 128),
    flags: [],
  };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    const opt = w.text;
    if (ADDR_FLAGS.includes(opt)) {
      a.flags.push(opt);
      continue;
    }
    if (!ADDR_OPTIONS.includes(opt)) {
      ctx.error(w, 'address-option', `unknown virtual address option '${opt}'`, `options are ${[...ADDR_OPTIONS, ...ADDR_FLAGS].join(', ')}`);
      continue;
    }
    const v = rest[++i];
    if (!v) {
      ctx.error(w, 'address-option', `'${opt}' needs a value`);
      break;
    }
    switch (opt) {
      case 'brd':
      case 'broadcast':
        if (v.text !== '-' && v.text !== '+' && 'error' in parseIp(v))
          ctx.error(v, 'address-invalid', `'${v.text}' is not a broadcast address`, 'write brd IP, brd + or brd -');
        else a.brd = v.text;
        break;
      case 'dev':
        a.dev = v.text;
        break;
      case 'scope':
        if (!SCOPES.includes(v.text) && !/^\d+$/.test(v.text)) ctx.error(v, 'value-enum', `invalid scope '${v.text}'`, `write one of ${SCOPES.join(', ')}`);
        else a.scope = v.text;
        break;
      case 'label':
        a.label = v.text;
        break;
      case 'peer': {
        const p = parseIp(v, { prefix: true });
        if ('error' in p) ctx.error(v, 'address-invalid', p.error);
        else a.peer = v.text;
        break;
      }
      case 'preferred_lft':
        a.preferredLft = v.text;
        break;
      case 'track_group':
        a.trackGroup = v.text;
        break;
    }
  }
  return a;
}

/** `IP [min_ttl N] [max_ttl N]` */
export function parsePeerLine(st: Statement, ctx: BuildContext): UnicastPeer | undefined {
  const [first, ...rest] = wordsOf(st);
  // inet_stosockaddr() (lib/utils.c) drops a '-RANGE' or '/LEN' after the address unread.
  const cut = first.text.search(/[-/]/);
  const ip = parseIp(cut > 0 ? { ...first, text: first.text.slice(0, cut) } : first);
  if ('error' in ip) {
    ctx.error(first, 'address-invalid', cut > 0 ? `'${first.text}' is not an IP address` : ip.error, 'write one peer address per line');
    return undefined;
  }
  const p: UnicastPeer = { span: spanOf(st), address: ip.value.address, family: ip.value.family };
  for (let i = 0; i < rest.length; i += 2) {
    const k = rest[i].text;
    const v = rest[i + 1];
    const n = v && /^\d+$/.test(v.text) ? Number(v.text) : NaN;
    if ((k !== 'min_ttl' && k !== 'max_ttl') || !(n >= 0 && n <= 255)) {
      ctx.error(rest[i], 'value-invalid', `unicast_peer: expected min_ttl or max_ttl with a value 0..255 after the address`);
      break;
    }
    if (k === 'min_ttl') p.minTtl = n;
    else p.maxTtl = n;
  }
  return p;
}

/** `NAME [weight W [reverse|noreverse]]` with W in [-limit, limit]. */
export function trackRefParser(limit: number) {
  return (st: Statement, ctx: BuildContext): TrackRef | undefined => {
    const [name, ...rest] = wordsOf(st);
    const ref: TrackRef = { span: spanOf(st), name: name.text, reverse: false };
    for (let i = 0; i < rest.length; i++) {
      const w = rest[i];
      if (w.text === 'weight') {
        const v = rest[++i];
        if (!v || !/^[+-]?\d+$/.test(v.text) || Math.abs(Number(v.text)) > limit) {
          ctx.error(
            v ?? w,
            'value-range',
            `weight for '${name.text}' must be a whole number between -${limit} and ${limit}; ignoring it`,
            `write: ${name.text} weight -20`,
          );
          return ref;
        }
        ref.weight = Number(v.text);
      } else if (w.text === 'reverse') ref.reverse = true;
      else if (w.text === 'noreverse') ref.reverse = false;
      else {
        ctx.error(w, 'value-invalid', `unexpected '${w.text}' after '${name.text}'`, `write: ${name.text} [weight W [reverse]]`);
        break;
      }
    }
    return ref;
  };
}

/** track_interface lines: `IF [weight W [reverse]]`, weight limited to ±253. */
export function parseTrackInterfaceLine(st: Statement, ctx: BuildContext): TrackInterface | undefined {
  return trackRefParser(253)(st, ctx);
}

/** A line of a name list (sync group and track_group members, notification_email, garp_group
 * interfaces): keepalived's read_value_block takes each word as a name. */
export function parseNameLine(st: Statement): string[] {
  return wordsOf(st).map((w) => w.text);
}

const ROUTE_VALUE_OPTS = new Set([
  'src',
  'to',
  'via',
  'gw',
  'or',
  'dev',
  'oif',
  'scope',
  'table',
  'metric',
  'preference',
  'pref',
  'priority',
  'protocol',
  'proto',
  'realms',
  'mtu',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'initcwnd',
  'initrwnd',
  'ssthresh',
  'rto_min',
  'hoplimit',
  'features',
  'quickack',
  'congctl',
  'pref',
  'tos',
  'dsfield',
  'type',
  'nexthop',
  'weight',
  'onlink',
  'encap',
  'track_group',
  'expires',
  'fastopen_no_cookie',
  'ttl-propagate',
]);
const ROUTE_TYPES = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'local', 'broadcast', 'anycast', 'multicast', 'nat']);

/** `[type] [to] PREFIX via IP dev IF table T ...`, kept verbatim for iproute2 with the common parts pulled out. */
export function parseRouteLine(st: Statement, ctx: BuildContext): RouteSpec | undefined {
  const ws = wordsOf(st);
  const r: RouteSpec = { span: spanOf(st), args: ws.map((w) => w.text), blackhole: false, noTrack: false };
  for (let i = 0; i < ws.length; i++) {
    const t = ws[i].text;
    if (t === 'no_track') {
      r.noTrack = true;
      continue;
    }
    if (t === 'inet6' || t === 'onlink' || t === 'pervasive') continue;
    if (ROUTE_TYPES.has(t)) {
      if (t === 'blackhole') r.blackhole = true;
      continue;
    }
    if (ROUTE_VALUE_OPTS.has(t)) {
      const v = ws[++i];
      if (!v) {
        ctx.error(ws[i - 1], 'route-invalid', `'${t}' needs a value`);
        return undefined;
      }
      if (t === 'gw' || t === 'or') {
        // keepalived 2.2.7 still reads them, as errors.
        ctx.error(
          ws[i - 1],
          'deprecated-keyword',
          t === 'gw' ? '"gw" for routes is deprecated. Please use "via"' : '"or" for routes is deprecated. Please use "nexthop"',
          t === 'gw' ? 'write via' : 'write nexthop via A nexthop via B',
        );
      }
      if (t === 'via' || t === 'gw' || t === 'or') {
        const p = parseIp(v);
        if ('error' in p) {
          ctx.error(v, 'address-invalid', p.error);
          return undefined;
        }
        r.via ??= v.text;
      } else if (t === 'to') r.to = v.text;
      else if (t === 'dev' || t === 'oif') r.dev = v.text;
      else if (t === 'src') r.src = v.text;
      else if (t === 'table') r.table = v.text;
      else if (t === 'metric' || t === 'preference' || t === 'priority') r.metric = Number(v.text);
      continue;
    }
    if (r.to === undefined && (t === 'default' || !('error' in parseIp(ws[i], { prefix: true })))) {
      r.to = t;
      continue;
    }
    ctx.error(
      ws[i],
      'route-invalid',
      `unexpected '${t}' in route`,
      'write it as ip route would: 10.0.0.0/8 via 192.168.1.1 dev eth0 (abbreviated option names are not accepted)',
    );
    return undefined;
  }
  if (r.to === undefined) {
    ctx.error(st.head, 'route-invalid', 'route has no destination', 'write: 10.0.0.0/8 via 192.168.1.1');
    return undefined;
  }
  return r;
}

const RULE_VALUE_OPTS = new Set([
  'from',
  'to',
  'table',
  'lookup',
  'preference',
  'pref',
  'priority',
  'tos',
  'dsfield',
  'fwmark',
  'iif',
  'oif',
  'realms',
  'goto',
  'suppress_prefixlength',
  'suppress_ifgroup',
  'uidrange',
  'ipproto',
  'sport',
  'dport',
  'l3mdev',
  'protocol',
  'track_group',
  'nat',
]);

export function parseRuleLine(st: Statement, ctx: BuildContext): RuleSpec | undefined {
  const ws = wordsOf(st);
  const r: RuleSpec = { span: spanOf(st), args: ws.map((w) => w.text), noTrack: false };
  for (let i = 0; i < ws.length; i++) {
    const t = ws[i].text;
    if (t === 'no_track') {
      r.noTrack = true;
      continue;
    }
    if (t === 'inet6' || t === 'not' || t === 'l3mdev' || t === 'blackhole' || t === 'prohibit' || t === 'unreachable') continue;
    if (!RULE_VALUE_OPTS.has(t)) {
      ctx.error(ws[i], 'rule-invalid', `unexpected '${t}' in rule`, 'write it as ip rule would: from 10.0.0.0/8 table 100 preference 100');
      return undefined;
    }
    const v = ws[++i];
    if (!v) {
      ctx.error(ws[i - 1], 'rule-invalid', `'${t}' needs a value`);
      return undefined;
    }
    if (t === 'from' || t === 'to') {
      if (v.text !== 'all' && 'error' in parseIp(v, { prefix: true })) {
        ctx.error(v, 'address-invalid', `VRRP parsed invalid IP ${v.text}. skipping IP...`, 'write an address or prefix such as 192.168.100.0/24, or all');
        return undefined;
      }
      if (t === 'from') r.from = v.text;
      else r.to = v.text;
    } else if (t === 'table' || t === 'lookup') r.table = v.text;
    else if (t === 'preference' || t === 'pref' || t === 'priority') r.preference = Number(v.text);
  }
  return r;
}
