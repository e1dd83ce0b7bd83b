// Keyword tables of the real_server health checkers (keepalived/check/check_*.c of 2.2.7). What
// a checker inherits is filled in later, by resolve-lvs.ts.
import { ipFamily } from '../../core/address.js';
import { defineBlock, keywords, type BlockSpec, type BuildContext, type KeywordSpec } from '../schema.js';
import type { Statement } from '../syntax.js';
import { bool, custom, decimal, flag, int, ip, oneOf, script, userGroup, word, type IpPrefix, type Parsed } from '../values.js';
import type {
  BfdCheck,
  DnsCheck,
  DnsQueryType,
  FileCheck,
  HttpCheck,
  HttpUrl,
  MiscCheck,
  NetworkChecker,
  RealServer,
  SmtpCheck,
  SmtpHost,
  StatusRange,
  UdpCheck,
} from '../model/lvs.js';
import { WEIGHT_MAX } from '../model/lvs.js';

// ---- objects keepalived drops ----------------------------------------------------------------

const skipped = new WeakSet<object>();

/** Remember that keepalived reports and then drops this block (its error is already reported). */
export function markSkipped(obj: object): void {
  skipped.add(obj);
}

/**
 * True for blocks keepalived reports and then ignores: a virtual_server or real_server with a bad
 * address, an HTTP_GET without urls, a MISC_CHECK without misc_path... Nested ones are already
 * removed from their parent's array; top-level ones (virtual_server, virtual_server_group) are
 * left for the caller to filter.
 */
export function skippedByKeepalived(obj: object): boolean {
  return skipped.has(obj);
}

// ---- value types ---------------------------------------------------------------------------

/** keepalived's read_timer() ceiling: ULONG_MAX - 1 microseconds. */
const TIMER_MAX = 18446744073709.55;
const UINT_MAX = 4294967295;

/** connect_timeout: 1 µs .. UINT_MAX µs. */
export const connectTimer = decimal(0.000001, 4294.967295);
/** delay_loop: at least 1 µs. */
export const loopTimer = decimal(0.000001, TIMER_MAX);
/** delay_before_retry, warmup: 0 allowed. */
export const zeroTimer = decimal(0, TIMER_MAX);

/** `connect_ip` and `bindto` must be of the same family; keepalived drops the later one. */
function sameFamily(other: 'connectIp' | 'bindto', self: 'connectIp' | 'bindto', name: string, otherName: string) {
  return (v: IpPrefix, obj: Record<string, unknown>, at: Statement, ctx: BuildContext): void => {
    const o = obj[other];
    if (typeof o === 'string' && ipFamily(o) !== v.family) {
      ctx.error(
        at.args[0] ?? at.head,
        'address-family-mismatch',
        `${name} address ${v.address} does not match address family of ${otherName} - skipping`,
        `use ${v.family === 4 ? 'IPv6' : 'IPv4'} addresses for both, or drop one`,
      );
      delete obj[self];
    }
  };
}

/** keepalived's read_hex_str(): space-separated groups, two digits per byte, a lone digit is one byte. */
export function readHexStr(text: string, wildcards: boolean): string | undefined {
  let out = '';
  let i = 0;
  const nib = (c: string | undefined): string | undefined => {
    if (c === undefined) return undefined;
    if (/[0-9a-fA-F]/.test(c)) return c.toLowerCase();
    if (wildcards && (c === 'x' || c === 'X')) return 'x';
    return undefined;
  };
  while (true) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    const a = nib(text[i++]);
    if (a === undefined) return undefined;
    if (i < text.length && text[i] !== ' ') {
      const b = nib(text[i++]);
      if (b === undefined) return undefined;
      out += a + b;
    } else out += '0' + a;
  }
  return out.length ? out : undefined;
}

const hexString = (what: string, wildcards: boolean) =>
  custom<string>(wildcards ? '<HEX_STR with X wildcards>' : '<HEX_STR>', (args): Parsed<string> => {
    if (!args.length) return { error: `UDP_CHECK ${what} requires a ${what}`, hint: 'write hex digits, e.g. 0a1b 2c' };
    const v = readHexStr(args.map((a) => a.text).join(' '), wildcards);
    return v === undefined
      ? {
          error: `Invalid hex string for UDP_CHECK ${what}`,
          word: args[0],
          hint: wildcards ? 'write hex digits, X for a nibble to ignore' : 'write hex digits, e.g. 0a1b 2c',
        }
      : { value: v };
  });

/** `status_code 200 301-399 ...`: good words are kept, each bad one is reported (check below). */
const STATUS_MIN = 100;
const STATUS_MAX = 599;
function parseStatusWord(t: string): StatusRange | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(t);
  if (!m) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min < STATUS_MIN || max > STATUS_MAX || max < STATUS_MIN || min > max) return undefined;
  return { min, max };
}
const statusCodes = custom<StatusRange[]>('<CODE|MIN-MAX>...', (args) => ({
  value: args.map((a) => parseStatusWord(a.text)).filter((r): r is StatusRange => r !== undefined),
}));

const digest = custom<string>('<32 hex digits>', (args): Parsed<string> => {
  const w = args[0];
  if (!w) return { error: 'missing the digest', hint: 'write the MD5 of the page body (keepalived --genhash prints it)' };
  if (w.text.length !== 32)
    return {
      error: `digest '${w.text}' character length should be 32 rather than ${w.text.length}`,
      word: w,
      hint: 'write the 32 hex digits keepalived --genhash prints',
    };
  if (!/^[0-9a-fA-F]{32}$/.test(w.text))
    return { error: `Unable to interpret hex digit in '${w.text}'`, word: w, hint: 'write the 32 hex digits keepalived --genhash prints' };
  return { value: w.text.toLowerCase() };
});

const httpProtocol = custom<'1.0' | '1.0C' | '1.1'>('1.0|1.0C|1.1', (args) => {
  const w = args[0];
  if (!w) return { error: 'Missing http_protocol version', hint: 'write 1.0, 1.0C or 1.1' };
  if (w.text === '1.0' || w.text === '1.1') return { value: w.text };
  if (w.text === '1.0C' || w.text === '1.0c') return { value: '1.0C' };
  return { error: `Invalid http_protocol version ${w.text}`, word: w, rule: 'value-enum', hint: 'write 1.0, 1.0C or 1.1' };
});

export const REGEX_OPTIONS = [
  'allow_empty_class',
  'alt_bsux',
  'auto_callout',
  'caseless',
  'dollar_endonly',
  'dotall',
  'dupnames',
  'extended',
  'firstline',
  'match_unset_backref',
  'multiline',
  'never_ucp',
  'never_utf',
  'no_auto_capture',
  'no_auto_possess',
  'no_dotstar_anchor',
  'no_start_optimize',
  'ucp',
  'ungreedy',
  'utf',
  'never_backslash_c',
  'alt_circumflex',
  'alt_verbnames',
  'use_offset_limit',
] as const;

const regexStack = custom<{ start: number; max: number }>('<START> <MAX>', (args) => {
  if (args.length !== 2 || !args.every((a) => /^\d+$/.test(a.text))) return { error: 'regex_stack requires start and max values', word: args[0] };
  const [start, max] = args.map((a) => Number(a.text));
  if (start > max) return { error: 'regex stack start cannot exceed max value', word: args[0], rule: 'value-range' };
  return { value: { start, max } };
});

/** FILE_CHECK `weight W [reverse|noreverse]`. */
const fileWeight = custom<{ weight: number; reverse: boolean }>(
  `<-${WEIGHT_MAX}..${WEIGHT_MAX}> [reverse]`,
  (args): Parsed<{ weight: number; reverse: boolean }> => {
    const w = args[0];
    if (!w) return { error: 'track file weight missing' };
    if (!/^[+-]?\d+$/.test(w.text) || Math.abs(Number(w.text)) > WEIGHT_MAX)
      return {
        error: `weight for track file must be in [-${WEIGHT_MAX}..${WEIGHT_MAX}] inclusive`,
        word: w,
        rule: /^[+-]?\d+$/.test(w.text) ? 'value-range' : 'value-invalid',
      };
    const r = args[1]?.text;
    if (r !== undefined && r !== 'reverse' && r !== 'noreverse')
      return { error: `unknown track file weight option ${r}`, word: args[1], hint: 'write reverse or noreverse' };
    return { value: { weight: Number(w.text), reverse: r === 'reverse' } };
  },
);

const dnsName = custom<string>('<NAME>', (args) => {
  const w = args[0];
  if (!w) return { error: 'missing the name to query' };
  const n = w.text;
  if ((n[0] === '.' && n.length > 1) || n.includes('..'))
    return { error: `DNS_CHECK name '${n}' has empty label`, word: w, hint: 'write a name such as example.com (or . for the root)' };
  return { value: n };
});

// ---- keywords every checker shares -----------------------------------------------------------

const cc = keywords<NetworkChecker>();

const PING_IGNORES = 'keepalived 2.2.7 does not use it for PING_CHECK (ICMP socket neither bound nor marked; no port)';
const UDP_IGNORES_IF = "keepalived 2.2.7's UDP_CHECK marks its socket but does not bind it to an interface (layer4.c udp_bind_connect)";

/** connect_ip ... connect_timeout (install_checker_common_keywords(true) in keepalived). */
function connectionKeywords(kind?: 'ping' | 'udp'): KeywordSpec[] {
  // keepalived 2.2.7's PING_CHECK neither binds nor marks its ICMP socket (check_ping.c), and
  // ICMP has no port: it accepts these keywords and does nothing with them, nor do we.
  const ping = kind === 'ping';
  const forPing = ping ? { ignored: PING_IGNORES } : {};
  return [
    cc.k('connect_ip', ip, {
      apply: (v: IpPrefix, o: NetworkChecker) => {
        o.connectIp = v.address;
      },
      check: sameFamily('bindto', 'connectIp', 'connect_ip', 'bindto'),
      doc: 'Address to check (default: the real server address).',
    }),
    cc.k('connect_port', int(1, 65535), { ...(ping ? { ignored: PING_IGNORES } : {}), doc: 'Port to check (default: the real server port).' }),
    cc.k('bindto', ip, {
      apply: (v: IpPrefix, o: NetworkChecker) => {
        o.bindto = v.address;
      },
      check: sameFamily('connectIp', 'bindto', 'bindto', 'connect_ip'),
      ...(ping ? { ignored: PING_IGNORES } : {}),
      doc: 'Source address of the check.',
    }),
    cc.k(
      'bind_if',
      custom<string>('<IFNAME>', (a) =>
        !a[0]
          ? { error: 'missing the interface' }
          : a[0].text.length > 15
            ? { error: `Interface name ${a[0].text} is too long`, word: a[0], rule: 'value-range' }
            : { value: a[0].text },
      ),
      {
        ...(kind === 'udp' ? { ignored: UDP_IGNORES_IF } : forPing),
        doc: 'Interface the check is bound to (SO_BINDTODEVICE; needed for an IPv6 link-local address).',
      },
    ),
    cc.k('bind_port', int(1, 65535), { ...(ping ? { ignored: PING_IGNORES } : {}), doc: 'Source port of the check.' }),
    cc.k('fwmark', int(0, UINT_MAX), { ...forPing, doc: 'Firewall mark (SO_MARK) put on the check packets.' }),
    cc.k('connect_timeout', connectTimer, { doc: 'Seconds to wait for the connection (default: real_server, virtual_server, then 5).' }),
  ];
}

interface TimingDefaults {
  retry: string;
  delayBeforeRetry: string;
  /** HTTP_GET/SSL_GET also take the old spelling nb_get_retry (keepalived reports it as an error). */
  nbGetRetry?: boolean;
}

/** retry ... log_all_failures: every checker but FILE_CHECK and BFD_CHECK. */
function timingKeywords(d: TimingDefaults): KeywordSpec[] {
  return [
    cc.k('retry', int(0, UINT_MAX), {
      ...(d.nbGetRetry ? { deprecated: ['nb_get_retry'], deprecatedIsError: true } : {}),
      doc: `Extra attempts before a failure counts (default: real_server, virtual_server, then ${d.retry}).`,
    }),
    cc.k('delay_before_retry', zeroTimer, { doc: `Seconds between retries (default: real_server, virtual_server, then ${d.delayBeforeRetry}).` }),
    cc.k('warmup', zeroTimer, {
      doc: 'Up to this many random seconds before the first check (default: real_server, virtual_server, then delay_loop; 0 disables).',
    }),
    cc.k('delay_loop', loopTimer, { doc: 'Seconds between checks (default: real_server, virtual_server, then 60).' }),
    cc.k('alpha', bool, { doc: "Count the checker as failed until it first succeeds (default: the real server's alpha)." }),
    cc.k('log_all_failures', bool, {
      default: false,
      notImplemented: 'failures are logged while the checker retries and when the server changes state, not while it stays down',
      doc: 'Log every failure, not only changes of state.',
    }),
  ];
}

const STANDARD: TimingDefaults = { retry: '1', delayBeforeRetry: '1' };

// ---- HTTP_GET / SSL_GET ----------------------------------------------------------------------

function urlBlock(ssl: boolean): BlockSpec<HttpUrl> {
  const u = keywords<HttpUrl>();
  return defineBlock<HttpUrl>({
    name: 'url',
    doc: 'A URL to fetch; the check passes when every url of the checker does.',
    keywords: [
      u.k('path', word, { doc: 'Path to request, e.g. / or /health. Mandatory.' }),
      u.k('digest', digest, { keepFirst: true, doc: 'MD5 of the expected body (keepalived --genhash computes it).' }),
      u.k('status_code', statusCodes, {
        default: [],
        apply: (v: StatusRange[], o: HttpUrl) => {
          o.statusCode.push(...v);
        },
        check: (_v, _o, at, ctx) => {
          for (const w of at.args) {
            if (!parseStatusWord(w.text))
              ctx.error(
                w,
                'value-invalid',
                `Invalid HTTP_GET status code '${w.text}'`,
                `write codes or ranges between ${STATUS_MIN} and ${STATUS_MAX}, e.g. 200 301-399`,
              );
          }
        },
        doc: 'Accepted status codes and MIN-MAX ranges, 100..599 (default 200-299); every line adds.',
      }),
      u.k('virtualhost', word, { doc: "Host header for this url (default: the checker's, real server's, then virtual server's virtualhost)." }),
      u.k('regex', word, {
        check: (_v, o: HttpUrl, at, ctx) => {
          if (at.args.length === 1) return;
          ctx.warning(at.args[1], 'regex-extra-words', 'regex missing or too many fields; keepalived ignores this regex', 'quote the pattern: regex "a b+"');
          delete o.regex;
        },
        doc: 'PCRE2 pattern the body must match (quote it if it has spaces).',
      }),
      u.k('regex_no_match', flag, { default: false, doc: 'The check fails when the body matches the regex.' }),
      u.k(
        'regex_options',
        custom<string[]>('<OPTION>...', (a) => ({ value: a.map((w) => w.text).filter((t) => (REGEX_OPTIONS as readonly string[]).includes(t)) })),
        {
          default: [],
          apply: (v: string[], o: HttpUrl) => {
            o.regexOptions.push(...v);
          },
          check: (_v, _o, at, ctx) => {
            for (const w of at.args) {
              if (!(REGEX_OPTIONS as readonly string[]).includes(w.text))
                ctx.warning(w, 'regex-option-unknown', `unknown regex option '${w.text}'; keepalived ignores it`, `options are ${REGEX_OPTIONS.join(', ')}`);
            }
          },
          notImplemented: 'the regex is compiled without options',
          doc: 'PCRE2 options: caseless, multiline, dotall, ungreedy, utf...',
        },
      ),
      u.k('regex_stack', regexStack, {
        notImplemented: "JavaScript's regex engine has no JIT stack to size",
        doc: 'JIT stack start and maximum sizes in bytes, for complex patterns.',
      }),
      u.k('regex_min_offset', int(0, Number.MAX_SAFE_INTEGER), {
        notImplemented: 'the regex is matched against the whole body',
        doc: 'Offset in the body where matching starts.',
      }),
      u.k('regex_max_offset', int(0, Number.MAX_SAFE_INTEGER), {
        notImplemented: 'the regex is matched against the whole body',
        doc: 'Last offset in the body where a match may start.',
      }),
      ...(ssl
        ? [
            u.k('tls_compliant', bool, {
              since: '2.2.8',
              notImplemented: 'TLS connections are closed without a close_notify exchange',
              doc: 'Shut the TLS connection down cleanly for this url.',
            }),
          ]
        : []),
    ],
    finish(url, st, ctx) {
      if (!url.path) {
        ctx.error(st.head, 'url-no-path', 'HTTP/SSL_GET checker url has no path - ignoring', 'add: path /');
        markSkipped(url);
        return;
      }
      if (url.statusCode.length === 0) url.statusCode.push({ min: 200, max: 299 });
      if (
        url.regex === undefined &&
        (url.regexNoMatch || url.regexOptions.length || url.regexMinOffset !== undefined || url.regexMaxOffset !== undefined || url.regexStack)
      ) {
        ctx.warning(st.head, 'url-regex-unused', 'regex parameters specified without regex; keepalived ignores them', 'add: regex "PATTERN"');
      }
      if (url.regexMinOffset !== undefined && url.regexMaxOffset !== undefined && url.regexMinOffset > url.regexMaxOffset) {
        ctx.warning(
          url.spans.regexMinOffset ?? st.head,
          'url-regex-offsets',
          `regex min offset ${url.regexMinOffset} > regex_max_offset ${url.regexMaxOffset} - ignoring`,
        );
      }
    },
  });
}

function httpBlock(type: 'HTTP_GET' | 'SSL_GET'): BlockSpec<HttpCheck> {
  const h = keywords<HttpCheck>();
  const ssl = type === 'SSL_GET';
  return defineBlock<HttpCheck>({
    name: type,
    doc: ssl ? 'Fetch URLs over HTTPS and check status, digest or regex.' : 'Fetch URLs over HTTP and check status, digest or regex.',
    header: () => ({ type }),
    keywords: [
      ...connectionKeywords(),
      ...timingKeywords({ retry: '1', delayBeforeRetry: '3', nbGetRetry: true }),
      h.k('virtualhost', word, { doc: "Host header (default: the real server's, then the virtual server's virtualhost)." }),
      h.k('http_protocol', httpProtocol, { default: '1.0', doc: 'HTTP version of the request; 1.0C is 1.0 with Connection: close.' }),
      h.k('enable_sni', bool, {
        default: false,
        ...(ssl ? {} : { ignored: 'HTTP_GET makes no TLS connection' }),
        doc: 'Send the virtualhost (url, checker, then virtual server) as TLS SNI.',
      }),
      h.k(
        'sni_name',
        custom<string | true>('[NAME]', (a) => ({ value: a[0]?.text ?? true })),
        {
          since: '2.4.4',
          notImplemented: 'it turns SNI on, but the name sent is the virtualhost, not this name',
          apply: (v: string | true, o: HttpCheck) => {
            o.enableSni = true;
            if (v !== true) o.sniName = v;
          },
          doc: 'Send this name as TLS SNI (turns enable_sni on). In keepalived git after 2.4.3.',
        },
      ),
      h.k('fast_recovery', bool, {
        default: false,
        notImplemented: 'a recovering server is checked every delay_loop like any other',
        doc: 'Check all urls back to back when recovering, without delay_loop between them.',
      }),
      ...(ssl
        ? [
            h.k('tls_compliant', bool, {
              since: '2.2.8',
              notImplemented: 'TLS connections are closed without a close_notify exchange',
              doc: 'Shut TLS connections down cleanly.',
            }),
          ]
        : []),
      h.b('url', urlBlock(ssl), { multiple: true, field: 'urls', doc: 'A URL to fetch: path, and digest, status_code or regex. At least one.' }),
    ],
    finish(chk, st, ctx) {
      chk.urls = chk.urls.filter((u) => !skippedByKeepalived(u));
      if (chk.urls.length === 0) {
        ctx.error(
          st.head,
          'checker-no-url',
          'HTTP/SSL_GET checker has no urls specified - ignoring',
          'add: url { path / }   (keepalived 2.2.7 can crash with SIGSEGV on a checker without urls)',
        );
        markSkipped(chk);
      }
    },
  });
}

export const httpGetBlock = httpBlock('HTTP_GET');
export const sslGetBlock = httpBlock('SSL_GET');

// ---- TCP_CHECK / PING_CHECK ----------------------------------------------------------------

export const tcpCheckBlock = defineBlock<NetworkChecker & { type: 'TCP_CHECK' }>({
  name: 'TCP_CHECK',
  doc: 'Connect to the port; a completed connection is success.',
  header: () => ({ type: 'TCP_CHECK' }),
  keywords: [...connectionKeywords(), ...timingKeywords(STANDARD)],
});

export const pingCheckBlock = defineBlock<NetworkChecker & { type: 'PING_CHECK' }>({
  name: 'PING_CHECK',
  doc: 'ICMP echo to the real server (may widen net.ipv4.ping_group_range).',
  header: () => ({ type: 'PING_CHECK' }),
  keywords: [...connectionKeywords('ping'), ...timingKeywords(STANDARD)],
});

// ---- UDP_CHECK -------------------------------------------------------------------------------

const ud = keywords<UdpCheck>();
export const udpCheckBlock = defineBlock<UdpCheck>({
  name: 'UDP_CHECK',
  doc: 'Send a UDP datagram; an ICMP error is failure, optionally a (matching) reply is required.',
  header: () => ({ type: 'UDP_CHECK' }),
  keywords: [
    ...connectionKeywords('udp'),
    ...timingKeywords(STANDARD),
    ud.k('payload', hexString('payload', false), { doc: 'Bytes to send, in hex (default: random).' }),
    ud.k(
      'require_reply',
      custom<string | undefined>('[HEX_STR]', (a) => (a.length ? hexString('reply', true).parse(a) : { value: undefined })),
      {
        default: false,
        apply: (v: string | undefined, o: UdpCheck) => {
          o.requireReply = true;
          if (v !== undefined) o.requireReplyData = v;
        },
        doc: 'A reply is required; with hex, its start must match (X: any nibble).',
      },
    ),
    ud.k('min_reply_length', int(0, 65535), { default: 0, doc: 'Shortest acceptable reply.' }),
    ud.k('max_reply_length', int(0, 65535), { default: 255, doc: 'Longest acceptable reply.' }),
  ],
  finish(chk, st, ctx) {
    if (chk.minReplyLength > chk.maxReplyLength) {
      ctx.error(
        chk.spans.minReplyLength ?? st.head,
        'udp-reply-length',
        `UDP_CHECK min_reply length ${chk.minReplyLength} > max_reply_length ${chk.maxReplyLength} - will always fail`,
      );
    }
  },
});

// ---- SMTP_CHECK ------------------------------------------------------------------------------

const smtpHostBlock = defineBlock<SmtpHost>({
  name: 'host',
  doc: 'Deprecated: one more SMTP check with its own connection options; write another SMTP_CHECK instead.',
  keywords: [...connectionKeywords(), ...timingKeywords(STANDARD)],
});

/** Timer keywords inside `host {}` set the SMTP_CHECK's own value in keepalived. */
const HOISTED = ['alpha', 'retry', 'delayBeforeRetry', 'warmup', 'delayLoop', 'logAllFailures'] as const;

const sm = keywords<SmtpCheck>();
export const smtpCheckBlock = defineBlock<SmtpCheck>({
  name: 'SMTP_CHECK',
  doc: 'Expect a 220 banner, send HELO, expect 250, then QUIT.',
  header: () => ({ type: 'SMTP_CHECK' }),
  keywords: [
    sm.k('helo_name', word, { default: 'smtpchecker.keepalived.org', doc: 'Name sent with HELO.' }),
    ...connectionKeywords(),
    ...timingKeywords(STANDARD),
    sm.b('host', smtpHostBlock, {
      multiple: true,
      field: 'hosts',
      doc: 'Deprecated: more addresses to check, one block each; write more SMTP_CHECK blocks instead.',
    }),
  ],
  finish(chk, st, ctx) {
    if (chk.hosts.length === 0) return;
    ctx.warning(
      chk.spans.hosts ?? st.head,
      'smtp-host-deprecated',
      'The SMTP_CHECK host block is deprecated. Please define additional checkers.',
      'write one SMTP_CHECK per address, with connect_ip',
    );
    const self = chk as unknown as Record<string, unknown>;
    for (const h of chk.hosts) {
      const host = h as unknown as Record<string, unknown>;
      for (const f of HOISTED) {
        const at = h.spans[f];
        const mine = chk.spans[f];
        if (at && (!mine || at.line > mine.line)) {
          self[f] = host[f];
          chk.spans[f] = at;
        }
      }
    }
  },
});

// ---- DNS_CHECK -------------------------------------------------------------------------------

const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY'] as const satisfies readonly DnsQueryType[];
const dn = keywords<DnsCheck>();
export const dnsCheckBlock = defineBlock<DnsCheck>({
  name: 'DNS_CHECK',
  doc: 'Send a DNS query over UDP; a reply with our id and RCODE 0 is success.',
  header: () => ({ type: 'DNS_CHECK' }),
  keywords: [
    ...connectionKeywords(),
    ...timingKeywords({ retry: '3', delayBeforeRetry: 'the delay_loop' }),
    dn.k('type', oneOf(DNS_TYPES, { ignoreCase: true }), {
      field: 'queryType',
      default: 'SOA',
      doc: 'Query type: A, NS, CNAME, SOA, MX, TXT, AAAA (also RRSIG, DNSKEY).',
    }),
    dn.k('name', dnsName, { default: '.', keepFirst: true, doc: 'Name to query (default . , the root).' }),
  ],
});

// ---- MISC_CHECK ------------------------------------------------------------------------------

const mc = keywords<MiscCheck>();
export const miscCheckBlock = defineBlock<MiscCheck>({
  name: 'MISC_CHECK',
  doc: 'Run a program: exit 0 is success, 1 failure, 2..255 success with weight status-2 when misc_dynamic.',
  header: () => ({ type: 'MISC_CHECK' }),
  keywords: [
    ...timingKeywords({ retry: '0', delayBeforeRetry: '1' }),
    mc.k('misc_path', script({ user: false }), { doc: 'Program to run; quote it when it has arguments (no shell).' }),
    mc.k('misc_timeout', int(0, 4294), { doc: 'Whole seconds before the program is killed and the check fails (default: delay_loop).' }),
    mc.k('misc_dynamic', flag, { default: false, doc: 'Exit status 2..255 sets the real server weight to status - 2.' }),
    mc.k('user', userGroup, { doc: 'Run as this user (and group) instead of script_user.' }),
  ],
  finish(chk, st, ctx) {
    if (!chk.miscPath) {
      ctx.error(st.head, 'misc-no-path', 'No script path has been specified for MISC_CHECKER - skipping', 'add: misc_path "/path/to/check arg"');
      markSkipped(chk);
    }
  },
});

// ---- FILE_CHECK / BFD_CHECK ------------------------------------------------------------------

const fc = keywords<FileCheck>();
export const fileCheckBlock = defineBlock<FileCheck>({
  name: 'FILE_CHECK',
  doc: 'Follow a track_file: value × weight changes the real server weight; with weight 0 a non-zero value is failure.',
  header: () => ({ type: 'FILE_CHECK', weightReverse: false }),
  keywords: [
    fc.k('track_file', word, { doc: 'Name of a top-level track_file block.' }),
    fc.k('weight', fileWeight, {
      apply: (v: { weight: number; reverse: boolean }, o: FileCheck) => {
        o.weight = v.weight;
        o.weightReverse = v.reverse;
      },
      doc: "Multiplier for the file value (default: the track_file's weight); reverse inverts it.",
    }),
  ],
  finish(chk, st, ctx) {
    if (!chk.trackFile) {
      ctx.error(st.head, 'file-check-no-track-file', 'FILE_CHECK has no track_file specified - ignoring', 'add: track_file NAME');
      markSkipped(chk);
    }
  },
});

const bc = keywords<BfdCheck>();
export const bfdCheckBlock = defineBlock<BfdCheck>({
  name: 'BFD_CHECK',
  doc: 'Follow a bfd_instance: the real server is down while the BFD session is.',
  header: () => ({ type: 'BFD_CHECK' }),
  keywords: [
    bc.k(
      'name',
      custom<string>('<BFD_INSTANCE>', (a) =>
        a.length ? { value: a[0].text } : { error: 'BFD_CHECK - No or too many names specified - skipping checker', hint: 'write: name BFD_INSTANCE' },
      ),
      {
        check: (_v, o: BfdCheck, at, ctx) => {
          if (at.args.length === 1) return;
          ctx.error(at.args[1], 'value-invalid', 'BFD_CHECK - No or too many names specified - skipping checker', 'write: name BFD_INSTANCE');
          markSkipped(o);
        },
        doc: 'Name of the bfd_instance to follow.',
      },
    ),
    bc.k('alpha', bool, { doc: 'Start failed; the session state replaces it as soon as the session runs.' }),
  ],
  finish(chk, st, ctx) {
    if (!chk.name && !skippedByKeepalived(chk)) {
      ctx.error(st.head, 'bfd-check-no-name', 'No name has been specified for BFD_CHECKER - skipping', 'add: name BFD_INSTANCE');
      markSkipped(chk);
    }
  },
});

// ---- the checker keywords of real_server --------------------------------------------------

const rc = keywords<RealServer>();
/** Every checker block lands in real_server's `checkers`, in config order. */
export const checkerKeywords: KeywordSpec[] = [
  rc.b('HTTP_GET', httpGetBlock, { multiple: true, field: 'checkers' }),
  rc.b('SSL_GET', sslGetBlock, { multiple: true, field: 'checkers' }),
  rc.b('TCP_CHECK', tcpCheckBlock, { multiple: true, field: 'checkers' }),
  rc.b('SMTP_CHECK', smtpCheckBlock, { multiple: true, field: 'checkers' }),
  rc.b('DNS_CHECK', dnsCheckBlock, { multiple: true, field: 'checkers' }),
  rc.b('MISC_CHECK', miscCheckBlock, { multiple: true, field: 'checkers' }),
  rc.b('UDP_CHECK', udpCheckBlock, { multiple: true, field: 'checkers' }),
  rc.b('PING_CHECK', pingCheckBlock, { multiple: true, field: 'checkers' }),
  rc.b('FILE_CHECK', fileCheckBlock, { multiple: true, field: 'checkers' }),
  rc.b('BFD_CHECK', bfdCheckBlock, { multiple: true, field: 'checkers' }),
];
