// Keyword tables of the LVS blocks: virtual_server_group, virtual_server, real_server and the
// top-level SSL block (keepalived/check/check_parser.c and check_data.c of 2.2.7). The block-end
// checks reproduce keepalived's validate_check_config(), with its wording.
import { spanOf } from '../diagnostics.js';
import type { RuleId } from '../rules.js';
import { addressToBigInt, bigIntToAddress, ipFamily } from '../../core/address.js';
import { defineBlock, keywords, SKIP_BLOCK, type BuildContext, type KeywordSpec } from '../schema.js';
import type { Statement } from '../syntax.js';
import type { Word } from '../syntax.js';
import { bool, custom, flag, int, parseIp, script, word, type Parsed, type ValueType } from '../values.js';
import type {
  CheckerTimers,
  LvsMethod,
  LvsScheduler,
  RealServer,
  SchedulerFlag,
  ServerAddress,
  SslConfig,
  VirtualServer,
  VirtualServerGroup,
  VsgEntry,
} from '../model/lvs.js';
import { WEIGHT_MAX } from '../model/lvs.js';
import { checkerKeywords, connectTimer, loopTimer, markSkipped, skippedByKeepalived, zeroTimer } from './checkers.js';
import { namedHeader } from './vrrp.js';

export { skippedByKeepalived } from './checkers.js';

const UINT_MAX = 4294967295;
/** IPVS_SVC_PERSISTENT_TIMEOUT: persistence_timeout without a value. */
const DEFAULT_PERSISTENCE = 360;
/** LVS_MAX_TIMEOUT: 31 days. */
const MAX_PERSISTENCE = 86400 * 31;

// ---- value types ---------------------------------------------------------------------------

export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'sh',
  'mh',
  'dh',
  'fo',
  'ovf',
  'lblcr',
  'sed',
  'nq',
  'twos',
] as const satisfies readonly LvsScheduler[];

/** One of a fixed set, with keepalived's own message for a wrong word (rule value-enum). */
function enumOf<const T extends string>(values: readonly T[], message: (w: string) => string, ignoreCase = false): ValueType<T> {
  return custom<T>(values.join('|'), (args) => {
    const w = args[0];
    if (!w) return { error: `missing a value: one of ${values.join(', ')}` };
    const hit = values.find((v) => (ignoreCase ? v.toLowerCase() === w.text.toLowerCase() : v === w.text));
    return hit ? { value: hit } : { error: message(w.text), word: w, rule: 'value-enum', hint: `write one of ${values.join(', ')}` };
  });
}

/** Weights: whole numbers in [min, WEIGHT_MAX]; keepalived rejects negative ones. */
function weightType(min: number, what: string): ValueType<number> {
  return custom<number>(`<${min}..${WEIGHT_MAX}>`, (args) => {
    const w = args[0];
    if (!w) return { error: 'missing a weight' };
    if (!/^[+-]?\d+$/.test(w.text)) return { error: `invalid number '${w.text}'`, word: w, hint: `write a weight between ${min} and ${WEIGHT_MAX}` };
    const n = Number(w.text);
    if (n < min || n > WEIGHT_MAX) {
      const neg = n < 0 ? ' (negative weights are not allowed)' : '';
      return {
        error: `${what} ${w.text} is outside range ${min}-${WEIGHT_MAX}${neg}`,
        word: w,
        rule: 'value-range',
        hint: `write a weight between ${min} and ${WEIGHT_MAX}`,
      };
    }
    return { value: n };
  });
}

/**
 * The tunnel options after NAT|DR|TUN (svr_forwarding_handler). keepalived reads them whatever the
 * method and, when one is wrong, reports it but keeps the method it already set.
 */
function tunnelOptions(args: Word[], server: string): { value: Omit<LvsMethod, 'method'> } | { error: string; word: Word; rule?: RuleId; hint?: string } {
  const v: Omit<LvsMethod, 'method'> = {};
  let port = 0;
  for (let i = 1; i < args.length; i++) {
    const t = args[i].text;
    if (t === 'type') {
      const n = args[i + 1];
      if (!n) return { error: `Missing tunnel type for ${server} server`, word: args[i], hint: 'write type ipip, type gue port N or type gre' };
      if (n.text !== 'ipip' && n.text !== 'gue' && n.text !== 'gre')
        return { error: `Unknown tunnel type ${n.text} for ${server} server`, word: n, rule: 'value-enum', hint: 'write ipip, gue or gre' };
      v.tunnelType = n.text;
      i++;
    } else if (t === 'port') {
      const n = args[i + 1];
      if (!n) return { error: `Missing port for ${server} server gue tunnel`, word: args[i] };
      if (!/^\d+$/.test(n.text) || Number(n.text) < 1 || Number(n.text) > 65535)
        return { error: `Invalid gue tunnel port ${n.text} for ${server} server`, word: n, rule: 'value-range', hint: 'write a port between 1 and 65535' };
      port = Number(n.text);
      i++;
    } else if (t === 'nocsum' || t === 'csum' || t === 'remcsum') v.checksum = t;
    else return { error: `Invalid tunnel option ${t} for ${server} server`, word: args[i], hint: 'options are type, port, nocsum, csum, remcsum' };
  }
  const type = v.tunnelType ?? 'ipip';
  if ((type === 'gue') !== (port !== 0))
    return { error: 'gue tunnels require port, otherwise cannot have port.', word: args[0], hint: 'write: lvs_method TUN type gue port 6080' };
  if (type === 'ipip' && v.checksum && v.checksum !== 'nocsum')
    return { error: 'ipip tunnels do not support checksum option.', word: args[0], hint: 'checksum options need type gue or gre' };
  if (type === 'gre' && v.checksum === 'remcsum') return { error: 'gre tunnels do not support remote checksum option.', word: args[0] };
  if (port) v.tunnelPort = port;
  return { value: v };
}

/** `NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`; a bad option is reported by lvsMethodCheck. */
function lvsMethodType(server: 'virtual' | 'real' | 'sorry'): ValueType<LvsMethod> {
  return custom<LvsMethod>('NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]', (args): Parsed<LvsMethod> => {
    const m = args[0];
    if (!m) return { error: 'missing the forwarding method', hint: 'write NAT, DR or TUN' };
    if (m.text !== 'NAT' && m.text !== 'DR' && m.text !== 'TUN') {
      return { error: `PARSER : unknown [${m.text}] routing method for ${server} server`, word: m, rule: 'value-enum', hint: 'write NAT, DR or TUN' };
    }
    const t = tunnelOptions(args, server);
    return { value: { method: m.text, ...('value' in t && m.text === 'TUN' ? t.value : {}) } };
  });
}

function lvsMethodCheck(server: 'virtual' | 'real' | 'sorry') {
  return (_v: LvsMethod, _o: unknown, at: Statement, ctx: BuildContext): void => {
    const t = tunnelOptions(at.args, server);
    if ('error' in t) ctx.error(t.word, t.rule ?? 'value-invalid', `${at.keyword}: ${t.error}; the tunnel options are ignored`, t.hint);
  };
}

/** A port word as keepalived reads it: all zeros means no port. */
function readPort(w: Word | undefined): { port?: number } | undefined {
  if (!w || /^0*$/.test(w.text)) return {};
  if (!/^\d+$/.test(w.text) || Number(w.text) < 1 || Number(w.text) > 65535) return undefined;
  return { port: Number(w.text) };
}

/** `IP [PORT]` of virtual_server, real_server and sorry_server. */
function serverAddress(ipWord: Word | undefined, portWord: Word | undefined, what: string): Parsed<ServerAddress> {
  const shown = `${ipWord?.text ?? ''}${portWord ? `/${portWord.text}` : ''}`;
  if (!ipWord) return { error: `${what} needs an address`, hint: 'write IP [PORT]' };
  const ip = parseIp(ipWord);
  if ('error' in ip)
    return {
      error: `Invalid ${what} IP address${portWord ? '/port' : ''} ${shown} - skipping`,
      word: ipWord,
      rule: 'address-invalid',
      hint: 'write an IPv4 or IPv6 address',
    };
  const p = readPort(portWord);
  if (!p)
    return { error: `Invalid ${what} IP address/port ${shown} - skipping`, word: portWord, rule: 'address-invalid', hint: 'write a port between 1 and 65535' };
  return { value: { address: ip.value.address, family: ip.value.family, ...p } };
}

const sorryServer = custom<ServerAddress>('<IP> [PORT]', (args) => serverAddress(args[0], args[1], 'sorry server'));

const persistenceTimeout = custom<number>(`[1..${MAX_PERSISTENCE}]`, (args) =>
  args.length ? int(1, MAX_PERSISTENCE).parse(args) : { value: DEFAULT_PERSISTENCE },
);

const persistenceGranularity = custom<string>('<NETMASK|PREFIXLEN>', (args) => {
  const w = args[0];
  if (!w) return { error: 'missing the netmask', hint: 'write a netmask (IPv4) or a prefix length (IPv6)' };
  if (w.text.includes('.'))
    return ipFamily(w.text) === 4
      ? { value: w.text }
      : { error: `Invalid IPv4 persistence_granularity specified - ${w.text}`, word: w, hint: 'write a netmask such as 255.255.255.0' };
  const n = Number(w.text);
  return /^\d+$/.test(w.text) && n >= 1 && n <= 128
    ? { value: w.text }
    : { error: `Invalid IPv6 persistence_granularity specified - ${w.text}`, word: w, rule: 'value-range', hint: 'write a prefix length between 1 and 128' };
});

const snmpName = (what: string) =>
  custom<string>('<STRING>', (a) =>
    a.length === 1
      ? { value: a[0].text }
      : { error: `${what} snmp_name missing or extra parameters`, word: a[1], hint: 'write one word, quoted if it has spaces' },
  );

const tm = keywords<CheckerTimers>();
/** The checker timers a virtual or real server sets for its checkers. */
const serverTimers = (what: string): KeywordSpec[] => [
  tm.k('connect_timeout', connectTimer, {
    doc: `Seconds a checker waits for its connection (default for the checkers of this ${what}; keepalived default 5).`,
  }),
  tm.k('delay_loop', loopTimer, { doc: `Seconds between checks (default for the checkers of this ${what}; keepalived default 60).` }),
  tm.k('retry', int(1, UINT_MAX), {
    doc: `Extra attempts before a failure counts (default for the checkers of this ${what}; keepalived default 1, MISC_CHECK 0, DNS_CHECK 3). 0 is rejected here, unlike in a checker.`,
  }),
  tm.k('delay_before_retry', zeroTimer, {
    doc: `Seconds between retries (default for the checkers of this ${what}; keepalived default 1, HTTP_GET/SSL_GET 3, DNS_CHECK delay_loop).`,
  }),
  tm.k('warmup', zeroTimer, {
    doc: `Up to this many random seconds before a checker's first run (default for this ${what}; keepalived default delay_loop, 0 disables).`,
  }),
];

// ---- formatting as keepalived does (FMT_VS / FMT_RS) ----------------------------------------

const trio = (address: string, proto: string | undefined, port: number | undefined): string =>
  `[${address}]:${proto ? proto.toLowerCase() : 'none'}:${port ?? 0}`;

function fmtVs(vs: VirtualServer, proto = vs.protocol): string {
  if (vs.kind === 'group') return `[${vs.group}]:${vs.port ?? 0}`;
  if (vs.kind === 'fwmark') return `FWM ${vs.fwmark}`;
  return trio(vs.address ?? '', proto, vs.port);
}

// ---- virtual_server_group ------------------------------------------------------------------

function vsgLine(st: Statement, ctx: BuildContext, owner: VirtualServerGroup): VsgEntry | undefined {
  const group = (): string => owner.name;
  const [first, ...rest] = [st.head, ...st.args];
  const span = spanOf(st);
  if (first.text === 'fwmark') {
    const v = rest[0];
    if (!v || !/^\d+$/.test(v.text) || Number(v.text) > UINT_MAX) {
      ctx.error(v ?? first, 'value-range', `(${group()}): fwmark '${v?.text ?? ''}' must be in [0, ${UINT_MAX}] - ignoring`, 'write: fwmark N [inet|inet6]');
      return undefined;
    }
    const f = rest[1];
    if (f && f.text !== 'inet' && f.text !== 'inet6') {
      ctx.error(f, 'value-enum', `(${group()}): fwmark '${v.text}' family ${f.text} unknown - ignoring`, 'write inet or inet6');
      return undefined;
    }
    return { span, kind: 'fwmark', fwmark: Number(v.text), ...(f ? { family: f.text === 'inet' ? 4 : 6 } : {}) };
  }
  const text = first.text;
  const portWord = rest[0];
  const p = readPort(portWord);
  const cut = text.search(/[-/]/);
  const base = cut < 0 ? text : text.slice(0, cut);
  const fam = ipFamily(base);
  const bad = (msg: string, rule: RuleId = 'address-invalid'): undefined => {
    ctx.error(first, rule, msg, 'write IP, IP-LAST, IP-IP or IP/LEN, then an optional port');
    return undefined;
  };
  if (fam === 0 || !p) {
    ctx.error(
      fam === 0 ? first : portWord,
      'address-invalid',
      `Invalid virtual server group IP address ${text}${p ? '' : `/port/${portWord.text}`} - skipping`,
      fam === 0 ? 'write IP, IP-LAST, IP-IP or IP/LEN' : 'write a port between 1 and 65535',
    );
    return undefined;
  }
  const e: VsgEntry = { span, kind: 'address', address: base, family: fam, ...p };
  const bits = fam === 4 ? 32 : 128;
  const start = addressToBigInt(base);
  if (text[cut] === '/') {
    const m = text.slice(cut + 1);
    const len = Number(m);
    if (!/^\d+$/.test(m) || len < 1 || len > bits) return bad(`Invalid netmask - ${text} - skipping`, 'value-range');
    const host = (1n << BigInt(bits - len)) - 1n;
    if (start & host) return bad(`Address mask bits not empty - ${text} - skipping`);
    e.prefix = len;
    if (len < bits) e.end = bigIntToAddress(start | host, fam);
  } else if (text[cut] === '-') {
    const tail = text.slice(cut + 1);
    if ((fam === 4 && tail.includes('.')) || (fam === 6 && tail.includes(':'))) {
      const f2 = ipFamily(tail);
      if (f2 === 0) return bad(`Invalid range end ${text} - skipping`);
      if (f2 !== fam) return bad(`Range address families do not match ${text} - skipping`);
      if (addressToBigInt(tail) < start) return bad(`Address range end is less than address range start - ${text} - skipping`, 'value-range');
      e.end = tail;
    } else {
      const re = fam === 4 ? /^\d+$/ : /^[0-9a-fA-F]+$/;
      if (!re.test(tail)) return bad(`Virtual server group range '${text}' has extra characters at end '${tail}'`);
      const last = parseInt(tail, fam === 4 ? 10 : 16);
      const width = fam === 4 ? 8 : 16;
      if (last >= 2 ** width) return bad(`Virtual server group range '${text}' end '${tail}' too large`, 'value-range');
      const low = Number(start & BigInt(2 ** width - 1));
      if (low >= last) return bad(`Address range end is not greater than address range start - ${text} - skipping`, 'value-range');
      e.end = bigIntToAddress(((start >> BigInt(width)) << BigInt(width)) | BigInt(last), fam);
    }
  }
  return e;
}

export const virtualServerGroupBlock = defineBlock<VirtualServerGroup>({
  name: 'virtual_server_group',
  doc: 'Addresses, ranges and fwmarks that virtual servers share (one health check per real server for all).',
  header: namedHeader('virtual_server_group'),
  keywords: [],
  item: { field: 'entries', usage: 'IP [PORT] | IP-LAST [PORT] | IP-IP [PORT] | IP/LEN [PORT] | fwmark N [inet|inet6]', parse: vsgLine },
  finish(g, st, ctx) {
    if (g.entries.length === 0) {
      ctx.error(st.head, 'vsg-empty', `virtual server group ${g.name} has no entries - removing`, 'add addresses (IP PORT) or fwmark N lines');
      markSkipped(g);
      return;
    }
    const has4 = g.entries.some((e) => e.family === 4);
    const has6 = g.entries.some((e) => e.family === 6);
    if (has4 && has6 && g.entries.some((e) => e.kind === 'fwmark' && e.family === undefined)) {
      ctx.error(
        st.head,
        'vsg-family-mixed',
        `virtual server group ${g.name} cannot have IPv4, IPv6 and fwmark without family - removing`,
        'add inet or inet6 after each fwmark',
      );
      markSkipped(g);
    }
  },
});

// ---- real_server ---------------------------------------------------------------------------

const rs = keywords<RealServer>();
export const realServerBlock = defineBlock<RealServer>({
  name: 'real_server',
  doc: 'A backend of the virtual server, with its health checkers.',
  header: (st, ctx) => {
    const r = serverAddress(st.args[0], st.args[1], 'real server');
    if ('error' in r) {
      const msg = r.error.replace('IP address', 'ip address');
      ctx.error(r.word ?? st.head, r.rule ?? 'address-invalid', msg, r.hint);
      // keepalived's alloc_rs: skip_block, so nothing inside is read.
      return SKIP_BLOCK;
    }
    return r.value;
  },
  keywords: [
    rs.k('weight', weightType(0, 'Real server weight'), { doc: `Weight 0..${WEIGHT_MAX} (default: the virtual server's weight, 1).` }),
    rs.k('lvs_method', lvsMethodType('real'), {
      check: lvsMethodCheck('real'),
      doc: "Forwarding method for this server (default: the virtual server's). There is no lb_kind here.",
    }),
    rs.k('notify_up', script({ user: true }), { keepFirst: true, doc: 'Run when the server is added (all checkers up).' }),
    rs.k('notify_down', script({ user: true }), { keepFirst: true, doc: 'Run when the server is removed.' }),
    rs.k('uthreshold', int(0, UINT_MAX), { doc: 'Most connections IPVS sends to the server.' }),
    rs.k('lthreshold', int(0, UINT_MAX), { doc: 'Connections below which IPVS sends to the server again.' }),
    rs.k('inhibit_on_failure', bool, { doc: "On failure set the weight to 0 instead of removing the server (default: the virtual server's)." }),
    rs.k('alpha', bool, { doc: "Start with the checkers failed (default: the virtual server's alpha)." }),
    ...serverTimers('real server'),
    rs.k('smtp_alert', bool, {
      doc: 'Email on state changes (default: global smtp_alert_checker, smtp_alert, else yes).',
    }),
    rs.k('virtualhost', word, { doc: "Default Host header of this server's HTTP_GET/SSL_GET checkers." }),
    rs.k('snmp_name', snmpName('real server'), { doc: 'Name shown in SNMP data (realServerName).' }),
    ...checkerKeywords,
  ],
  finish(r, _st, ctx) {
    if (!r.address) {
      markSkipped(r);
      return;
    }
    r.checkers = r.checkers.filter((c) => !skippedByKeepalived(c));
    r.checkers = r.checkers.filter((c) => {
      if (c.type === 'MISC_CHECK' || c.type === 'FILE_CHECK' || c.type === 'BFD_CHECK') return true;
      const dst = c.connectIp ?? r.address;
      if (ipFamily(dst) === 6 && /^fe[89ab]/i.test(dst) && !c.bindIf) {
        ctx.error(
          c.spans.connectIp ?? c.span,
          'checker-link-local',
          `Checker link local address ${dst} requires a bind_if`,
          'add: bind_if IFNAME (keepalived needs it; keepalived-ts accepts it but does not bind to it yet)',
        );
        return false;
      }
      return true;
    });
  },
});

// ---- virtual_server ------------------------------------------------------------------------

function vsHeader(st: Statement, ctx: BuildContext): Partial<VirtualServer> | typeof SKIP_BLOCK {
  const [a, b] = st.args;
  const usage = 'write: virtual_server IP [PORT] {, virtual_server fwmark N { or virtual_server group NAME {';
  if (!a) {
    ctx.error(st.head, 'vs-header-invalid', 'virtual_server needs an address, fwmark N or group NAME', usage);
    return {};
  }
  if (a.text === 'group') {
    if (!b) {
      ctx.error(
        a,
        'vs-header-invalid',
        'virtual_server group needs the name of a virtual_server_group',
        'write: virtual_server group NAME {   (keepalived 2.2.7 crashes without the name)',
      );
      return {};
    }
    return { kind: 'group', group: b.text };
  }
  if (a.text === 'fwmark') {
    if (!b || !/^\d+$/.test(b.text) || Number(b.text) > UINT_MAX) {
      ctx.error(
        b ?? a,
        b && /^\d+$/.test(b.text) ? 'value-range' : 'value-invalid',
        `virtual server fwmark '${b?.text ?? ''}' must be in [0, ${UINT_MAX}] - ignoring`,
        'write: virtual_server fwmark N {',
      );
      // keepalived's alloc_vs skips the block after this one, and after a bad address.
      return SKIP_BLOCK;
    }
    return { kind: 'fwmark', fwmark: Number(b.text) };
  }
  const r = serverAddress(a, b, 'virtual server');
  if ('error' in r) {
    ctx.error(r.word ?? a, r.rule ?? 'address-invalid', r.error, r.hint);
    return SKIP_BLOCK;
  }
  return { kind: 'address', ...r.value };
}

/** Scheduler flag keywords; sh-/mh- ones only count after lvs_sched sh / mh, as in keepalived. */
function schedFlag(name: SchedulerFlag | 'hashed'): KeywordSpec {
  const needs = name.startsWith('sh-') ? 'sh' : name.startsWith('mh-') ? 'mh' : name === 'hashed' ? 'sh or mh' : undefined;
  const docs: Record<string, string> = {
    'flag-1': 'Scheduler flag 1 (ipvsadm -b flag-1).',
    'flag-2': 'Scheduler flag 2 (ipvsadm -b flag-2).',
    'flag-3': 'Scheduler flag 3 (ipvsadm -b flag-3).',
    'sh-port': 'sh scheduler: hash the port too; write it after lvs_sched sh.',
    'sh-fallback': 'sh scheduler: fall back to another server when the chosen one is unavailable; after lvs_sched sh.',
    'mh-port': 'mh scheduler: hash the port too; write it after lvs_sched mh.',
    'mh-fallback': 'mh scheduler: fall back when the chosen server is unavailable; after lvs_sched mh.',
    ops: 'One-packet scheduling, UDP only (ipvsadm -o).',
    hashed: 'Old flag; keepalived accepts it after lvs_sched sh or mh and does nothing.',
  };
  return {
    name,
    field: name === 'hashed' ? 'hashed' : 'schedulerFlags',
    type: flag,
    doc: docs[name],
    ...(name === 'hashed' ? { default: false, ignored: 'keepalived 2.2.7 sets no IPVS flag for it' } : { default: [] }),
    apply: () => undefined,
    check: (_v: unknown, vs: VirtualServer, at: Statement, ctx: BuildContext) => {
      const sched = vs.lvsSched;
      if (needs && sched !== 'sh' && sched !== 'mh') {
        ctx.error(
          at.head,
          'sched-flag-ignored',
          `${name} only applies to sh scheduler - ignoring`,
          sched ? `lvs_sched is ${sched}` : `write lvs_sched ${needs === 'mh' ? 'mh' : 'sh'} before it`,
        );
        return;
      }
      if (name === 'hashed') {
        vs.hashed = true;
        return;
      }
      if (needs && needs !== sched) return; // sh-* under mh, mh-* under sh: keepalived ignores it silently
      if (!vs.schedulerFlags.includes(name)) vs.schedulerFlags.push(name);
    },
  };
}

const vs = keywords<VirtualServer>();
export const virtualServerBlock = defineBlock<VirtualServer>({
  name: 'virtual_server',
  doc: 'A load-balanced service (IP PORT, fwmark N or group NAME) and its real servers.',
  header: vsHeader,
  keywords: [
    vs.k(
      'lvs_sched',
      enumOf(SCHEDULERS, (w) => `Invalid lvs_scheduler '${w}'`),
      { deprecated: ['lb_algo'], doc: 'IPVS scheduler: rr wrr lc wlc lblc sh mh dh fo ovf lblcr sed nq twos (keepalived reports a missing one and uses wlc).' },
    ),
    ...(['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback', 'ops', 'hashed'] as const).map(schedFlag),
    vs.k('lvs_method', lvsMethodType('virtual'), {
      check: lvsMethodCheck('virtual'),
      deprecated: ['lb_kind'],
      doc: 'Forwarding: NAT, DR or TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum] (keepalived reports a missing one and uses NAT).',
    }),
    vs.k('persistence_timeout', persistenceTimeout, {
      doc: `Seconds a client sticks to its real server, 1..${MAX_PERSISTENCE}; alone: ${DEFAULT_PERSISTENCE}. Unset: not persistent.`,
    }),
    vs.k('persistence_granularity', persistenceGranularity, {
      check: (v: string, o: VirtualServer, at, ctx) => {
        if (o.family === 6 && v.includes('.')) {
          ctx.error(at.args[0], 'value-invalid', `Invalid IPv6 persistence_granularity specified - ${v}`, 'write a prefix length between 1 and 128');
          delete o.persistenceGranularity;
        }
      },
      doc: 'Persistence netmask (IPv4) or prefix length (IPv6); makes the service persistent.',
    }),
    vs.k('persistence_engine', word, { doc: 'Persistence engine (only sip exists).' }),
    vs.k(
      'protocol',
      enumOf(['TCP', 'UDP', 'SCTP'] as const, (w) => `Unknown protocol ${w}`, true),
      { doc: 'TCP, UDP or SCTP (keepalived reports a missing one and uses UDP).' },
    ),
    vs.k(
      'ip_family',
      enumOf(['inet', 'inet6'] as const, (w) => `unknown address family ${w}`),
      {
        check: (v: 'inet' | 'inet6', o: VirtualServer, at, ctx) => {
          const fam = o.family ?? o.realServers.find((r) => (r.lvsMethod ?? o.lvsMethod)?.method !== 'TUN')?.family;
          if (fam && fam !== (v === 'inet' ? 4 : 6)) {
            ctx.error(at.args[0], 'ip-family-conflict', `Virtual server specified family ${v} conflicts with server family`);
            delete o.ipFamily;
          }
        },
        notImplemented: 'it is only checked against the real servers; a fwmark service is never set up as IPv6 (ipvsadm -6)',
        doc: 'Address family of a fwmark service whose real servers are all tunnelled (default inet).',
      },
    ),
    vs.k('ha_suspend', flag, {
      default: false,
      notImplemented: 'checkers run whether or not the virtual address is on this host',
      doc: 'Suspend the checkers while the virtual address is not on this host.',
    }),
    vs.k('smtp_alert', bool, {
      doc: 'Email on quorum changes (default: global smtp_alert_checker, smtp_alert, else no).',
    }),
    vs.k('virtualhost', word, { doc: 'Default Host header of the HTTP_GET/SSL_GET checkers.' }),
    vs.k('snmp_name', snmpName('virtual server'), { doc: 'Name shown in SNMP data (virtualServerName).' }),
    vs.k('alpha', flag, { default: false, doc: 'Start with every checker failed (words after it are ignored: `alpha no` still sets it).' }),
    vs.k('omega', flag, { default: false, doc: 'Run quorum_down and notify_down scripts on shutdown.' }),
    vs.k('quorum', int(1, UINT_MAX), { default: 1, doc: 'Least total weight of live real servers for the service to count as up.' }),
    vs.k('hysteresis', int(0, UINT_MAX), { default: 0, doc: 'Weight margin around quorum before a change counts.' }),
    vs.k('quorum_up', script({ user: true }), { keepFirst: true, doc: 'Run when quorum is gained.' }),
    vs.k('quorum_down', script({ user: true }), { keepFirst: true, doc: 'Run when quorum is lost.' }),
    vs.k('weight', weightType(1, 'Virtual server weight'), { default: 1, doc: `Default weight of the real servers, 1..${WEIGHT_MAX}.` }),
    vs.k('inhibit_on_failure', flag, {
      default: false,
      doc: "On failure set a real server's weight to 0 instead of removing it (words after it are ignored).",
    }),
    ...serverTimers('virtual server'),
    vs.k('sorry_server', sorryServer, { doc: 'Server used while quorum is lost (replaces every real server).' }),
    vs.k('sorry_server_inhibit', flag, {
      default: false,
      check: (_v, o: VirtualServer, at, ctx) => {
        if (o.sorryServer) return;
        ctx.error(at.head, 'sorry-server-missing', 'Ignoring sorry_server inhibit used before or without sorry_server', 'write sorry_server IP [PORT] first');
        o.sorryServerInhibit = false;
      },
      notImplemented: 'the sorry server is taken out when quorum returns, not kept at weight 0',
      doc: 'inhibit_on_failure for the sorry server; write it after sorry_server.',
    }),
    vs.k('sorry_server_lvs_method', lvsMethodType('sorry'), {
      check: (v: LvsMethod, o: VirtualServer, at, ctx) => {
        if (o.sorryServer) return lvsMethodCheck('sorry')(v, o, at, ctx);
        ctx.error(at.head, 'sorry-server-missing', 'sorry_server forwarding used without sorry_server', 'write sorry_server IP [PORT] first');
        delete o.sorryServerLvsMethod;
      },
      doc: "Forwarding method of the sorry server (default: the virtual server's); write it after sorry_server.",
    }),
    vs.b('real_server', realServerBlock, { multiple: true, field: 'realServers' }),
  ],
  finish(v, st, ctx) {
    if (!v.kind) {
      markSkipped(v);
      return;
    }
    const at = st.head;
    const warn5 = (rule: RuleId, message: string, hint?: string): void => ctx.diags.warning(at, rule, message, { hint, exit: 5 });
    if (v.persistenceGranularity !== undefined && v.persistenceTimeout === undefined) v.persistenceTimeout = DEFAULT_PERSISTENCE;

    // Real servers of the wrong family are dropped at their block end (rs_end_handler).
    let fam = v.family ?? (v.ipFamily ? (v.ipFamily === 'inet' ? 4 : 6) : undefined);
    v.realServers = v.realServers.filter((r) => {
      if (skippedByKeepalived(r)) return false;
      if ((r.lvsMethod ?? v.lvsMethod)?.method === 'TUN') return true;
      if (fam === undefined) fam = r.family;
      else if (fam !== r.family) {
        ctx.error(
          r.span,
          'rs-family-mismatch',
          `Address family of virtual server and real server ${r.address} don't match - skipping real server.`,
          'use addresses of one family, or TUN forwarding',
        );
        return false;
      }
      return true;
    });

    if (v.realServers.length === 0) {
      ctx.error(at, 'vs-no-real-servers', `Virtual server ${fmtVs(v)} has no real servers - ignoring`, 'add: real_server IP PORT { ... }');
      markSkipped(v);
      return;
    }
    if (v.haSuspend && v.kind === 'fwmark')
      ctx.error(v.spans.haSuspend ?? at, 'vs-ha-suspend-fwmark', `Virtual server ${fmtVs(v)}: cannot use ha_suspend with fwmarks - clearing ha_suspend`);

    let proto = v.protocol;
    if (v.kind === 'address') {
      if (!proto) {
        ctx.error(at, 'vs-protocol-missing', `Virtual server ${fmtVs(v)}: no protocol set - defaulting to UDP`, 'add: protocol TCP');
        proto = 'UDP';
      }
      if (v.schedulerFlags.includes('ops') && proto !== 'UDP')
        ctx.error(v.spans.schedulerFlags ?? at, 'vs-ops-not-udp', `Virtual server ${fmtVs(v, proto)}: one packet scheduling requires UDP - resetting`);
      if (!v.persistenceTimeout && !v.port) {
        ctx.error(
          at,
          'vs-port-missing',
          `Virtual server ${fmtVs(v, proto)}: zero port only valid for persistent services - setting`,
          'add the port to the header, or persistence_timeout',
        );
      }
    }
    if (v.kind === 'fwmark' && proto) {
      warn5(
        'vs-fwmark-protocol',
        `Warning: Virtual server ${fmtVs(v)}: protocol specified for fwmark - protocol will be ignored`,
        'remove protocol; a fwmark service matches every protocol',
      );
    }
    if (!v.lvsSched) ctx.error(at, 'vs-sched-missing', `Virtual server ${fmtVs(v, proto)}: no scheduler set, setting default 'wlc'`, 'add: lvs_sched wlc');

    let methodReported = false;
    const needMethod = (): void => {
      if (v.lvsMethod || methodReported) return;
      methodReported = true;
      ctx.error(
        at,
        'vs-lvs-method-missing',
        `Virtual server ${fmtVs(v, proto)}: no forwarding method set, setting default NAT`,
        'add: lvs_method NAT (or DR, TUN)',
      );
    };
    const seen: RealServer[] = [];
    let weightSum = 0;
    for (const r of v.realServers) {
      if (seen.some((s) => s.address === r.address && (s.port ?? 0) === (r.port ?? 0))) {
        ctx.error(r.span, 'rs-duplicate', `VS ${fmtVs(v, proto)}: real server ${trio(r.address, proto, r.port)} is duplicated - removing second rs`);
        continue;
      }
      seen.push(r);
      if (!r.lvsMethod) needMethod();
      weightSum += r.weight ?? v.weight;
    }
    v.realServers = seen;
    if (v.sorryServer && !v.sorryServerLvsMethod) needMethod();

    const quorum = Math.min(v.quorum, weightSum);
    if (v.quorum > weightSum) {
      ctx.error(
        v.spans.quorum ?? at,
        'vs-quorum-weight',
        `Warning - quorum ${v.quorum} for ${fmtVs(v, proto)} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`,
      );
    }
    if (v.hysteresis >= quorum) {
      ctx.error(
        v.spans.hysteresis ?? v.spans.quorum ?? at,
        'vs-hysteresis',
        `Virtual server ${fmtVs(v, proto)}: hysteresis ${v.hysteresis} >= quorum ${quorum}; setting hysteresis to ${Math.max(quorum - 1, 0)}`,
      );
    }

    // Unless NAT, real and sorry servers use the virtual server's port (fwmark: none).
    if (v.kind === 'group') return;
    const method = (m?: LvsMethod): string => (m ?? v.lvsMethod)?.method ?? 'NAT';
    for (const r of v.realServers) {
      if (method(r.lvsMethod) === 'NAT' || !r.port) continue;
      if (v.kind === 'fwmark')
        warn5(
          'rs-port-ignored',
          `WARNING - fwmark virtual server ${fmtVs(v)}, real server ${trio(r.address, proto, r.port)} has port specified - clearing`,
          'drop the port',
        );
      else if (r.port !== v.port)
        warn5(
          'rs-port-mismatch',
          `WARNING - virtual server ${fmtVs(v, proto)} and real server ${trio(r.address, proto, r.port)} ports don't match - resetting`,
          `without NAT the real server port must be the virtual server's (${v.port ?? 0})`,
        );
    }
    const s = v.sorryServer;
    if (s?.port && method(v.sorryServerLvsMethod) !== 'NAT') {
      if (v.kind === 'fwmark') warn5('rs-port-ignored', `WARNING - virtual server ${fmtVs(v)}, sorry server has port specified - clearing`, 'drop the port');
      else if (s.port !== v.port) warn5('rs-port-mismatch', `WARNING - virtual server ${fmtVs(v, proto)} and sorry server ports don't match - resetting`);
    }
  },
});

// ---- SSL -----------------------------------------------------------------------------------

const ssl = keywords<SslConfig>();
export const sslBlock = defineBlock<SslConfig>({
  name: 'SSL',
  doc: 'TLS context of SSL_GET checkers (generated when absent).',
  keywords: [
    ssl.k('password', word, { doc: 'Password of the private key.' }),
    ssl.k('ca', word, { doc: 'CA certificate file; loaded, but keepalived does not verify the server with it.' }),
    ssl.k('certificate', word, { doc: 'Client certificate (chain) file, PEM.' }),
    ssl.k('key', word, { doc: 'Private key file, PEM.' }),
  ],
});
