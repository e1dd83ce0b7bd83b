// LVS blocks of keepalived.conf(5): virtual_server_group, virtual_server, real_server, the
// checkers and the top-level SSL block. Timers are seconds. Fields a lower level inherits from a
// higher one (VS → RS → checker) stay undefined when not written: this is the config as written,
// which the keyword table, -t and lint read. The Resolved* types at the end are the same servers
// with every inherited or defaulted value filled in (resolve-lvs.ts), which is what runs.
import type { Item, Located, Named, ScriptRef } from './common.js';

export type LvsScheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'sh' | 'mh' | 'dh' | 'fo' | 'ovf' | 'lblcr' | 'sed' | 'nq' | 'twos';

/** Scheduler flag keywords of virtual_server, as written (`ipvsadm -b`, `ops` is `ipvsadm -o`). */
export type SchedulerFlag = 'flag-1' | 'flag-2' | 'flag-3' | 'sh-port' | 'sh-fallback' | 'mh-port' | 'mh-fallback' | 'ops';

/** `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`. */
export interface LvsMethod {
  method: 'NAT' | 'DR' | 'TUN';
  /** TUN only; keepalived's default is ipip. */
  tunnelType?: 'ipip' | 'gue' | 'gre';
  /** GUE tunnels only (mandatory there). */
  tunnelPort?: number;
  /** Tunnel checksum option (keepalived default nocsum). */
  checksum?: 'nocsum' | 'csum' | 'remcsum';
}

/** `IP [PORT]` of sorry_server (a port of 0 means none, as in keepalived). */
export interface ServerAddress {
  address: string;
  family: 4 | 6;
  port?: number;
}

// ---- virtual_server_group ------------------------------------------------------------------

/** `IP [PORT]`, `IP-END [PORT]`, `IP-IP [PORT]` or `IP/LEN [PORT]` line of a virtual_server_group. */
export interface VsgAddressEntry extends Item {
  kind: 'address';
  /** First address of the range (the address itself when no range). */
  address: string;
  family: 4 | 6;
  /** Last address of a range (`192.168.1.1-10`, `a-b`, or the end of an `/LEN` block). */
  end?: string;
  prefix?: number;
  port?: number;
}

/** `fwmark N [inet|inet6]` line of a virtual_server_group. */
export interface VsgFwmarkEntry extends Item {
  kind: 'fwmark';
  fwmark: number;
  family?: 4 | 6;
}

export type VsgEntry = VsgAddressEntry | VsgFwmarkEntry;

export interface VirtualServerGroup extends Named {
  entries: VsgEntry[];
}

// ---- timers shared by virtual_server, real_server and checkers --------------------------

/** Unset means inherited (checker ← real_server ← virtual_server) or keepalived's default. */
export interface CheckerTimers {
  /** Seconds; default 5. */
  connectTimeout?: number;
  /** Seconds between checks; default 60. */
  delayLoop?: number;
  /** Extra attempts before a failure counts; default 1 (MISC_CHECK 0, DNS_CHECK 3). */
  retry?: number;
  /** Seconds; default 1 (HTTP_GET/SSL_GET 3, DNS_CHECK delay_loop). */
  delayBeforeRetry?: number;
  /** Seconds of random delay before the first check; default delay_loop, 0 disables. */
  warmup?: number;
}

// ---- checkers ------------------------------------------------------------------------------

export type CheckerType =
  'HTTP_GET' | 'SSL_GET' | 'TCP_CHECK' | 'SMTP_CHECK' | 'DNS_CHECK' | 'MISC_CHECK' | 'UDP_CHECK' | 'PING_CHECK' | 'FILE_CHECK' | 'BFD_CHECK';

/** Connection options of network checkers (not MISC_CHECK, FILE_CHECK, BFD_CHECK). */
export interface ConnectionOptions {
  /** Default: the real server address. */
  connectIp?: string;
  /** Default: the real server port. */
  connectPort?: number;
  bindto?: string;
  bindIf?: string;
  bindPort?: number;
  /** SO_MARK for the checker's packets. */
  fwmark?: number;
  connectTimeout?: number;
}

/** Keywords every checker except FILE_CHECK and BFD_CHECK has. */
export interface CheckerCommon extends Located {
  /** Unset: the real server's alpha. */
  alpha?: boolean;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  delayLoop?: number;
  /** Log every failure, not only state changes (also on when global checker_log_all_failures is). */
  logAllFailures: boolean;
}

export interface NetworkChecker extends CheckerCommon, ConnectionOptions {}

export interface StatusRange {
  min: number;
  max: number;
}

export interface HttpUrl extends Located {
  /** Mandatory; a url without one is dropped. */
  path?: string;
  /** MD5 of the body, 32 lower-case hex digits. */
  digest?: string;
  /** Accepted status codes; 200-299 when none is given. Every status_code line adds to it. */
  statusCode: StatusRange[];
  virtualhost?: string;
  /** PCRE2 pattern, as written. */
  regex?: string;
  regexNoMatch: boolean;
  regexOptions: string[];
  regexStack?: { start: number; max: number };
  regexMinOffset?: number;
  regexMaxOffset?: number;
  /** SSL_GET only, keepalived 2.2.8+. */
  tlsCompliant?: boolean;
}

export interface HttpCheck extends NetworkChecker {
  type: 'HTTP_GET' | 'SSL_GET';
  httpProtocol: '1.0' | '1.0C' | '1.1';
  fastRecovery: boolean;
  /** Host header; unset: the real server's, then the virtual server's virtualhost. */
  virtualhost?: string;
  enableSni: boolean;
  sniName?: string;
  tlsCompliant?: boolean;
  urls: HttpUrl[];
}

export interface TcpCheck extends NetworkChecker {
  type: 'TCP_CHECK';
}

export interface PingCheck extends NetworkChecker {
  type: 'PING_CHECK';
}

/** The deprecated `host { ... }` sub-block of SMTP_CHECK: one more checker per host. */
export interface SmtpHost extends CheckerCommon, ConnectionOptions {}

export interface SmtpCheck extends NetworkChecker {
  type: 'SMTP_CHECK';
  heloName: string;
  hosts: SmtpHost[];
}

export type DnsQueryType = 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA' | 'RRSIG' | 'DNSKEY';

export interface DnsCheck extends NetworkChecker {
  type: 'DNS_CHECK';
  /** The `type` keyword (the field name `type` is the checker discriminator). */
  queryType: DnsQueryType;
  name: string;
}

export interface MiscCheck extends CheckerCommon {
  type: 'MISC_CHECK';
  miscPath?: ScriptRef;
  /** Whole seconds; unset: the checker's delay_loop. */
  miscTimeout?: number;
  miscDynamic: boolean;
  user?: { user: string; group?: string };
}

export interface UdpCheck extends NetworkChecker {
  type: 'UDP_CHECK';
  /** Bytes to send as lower-case hex; unset: a random payload. */
  payload?: string;
  requireReply: boolean;
  /** Expected reply prefix as lower-case hex, `x` for an ignored nibble. */
  requireReplyData?: string;
  minReplyLength: number;
  maxReplyLength: number;
}

export interface FileCheck extends Located {
  type: 'FILE_CHECK';
  /** Name of a top-level track_file block. */
  trackFile?: string;
  /** Unset: the track_file's own weight. */
  weight?: number;
  weightReverse: boolean;
}

export interface BfdCheck extends Located {
  type: 'BFD_CHECK';
  /** Name of a bfd_instance. */
  name?: string;
  alpha?: boolean;
}

export type Checker = HttpCheck | TcpCheck | PingCheck | SmtpCheck | DnsCheck | MiscCheck | UdpCheck | FileCheck | BfdCheck;

// ---- real_server / virtual_server ----------------------------------------------------------

export interface RealServer extends Located, CheckerTimers {
  address: string;
  family: 4 | 6;
  /** Unset: the virtual server's port (fwmark services: none). */
  port?: number;
  /** 0..2147483647; unset: the virtual server's weight (1). */
  weight?: number;
  /** Unset: the virtual server's lvs_method. */
  lvsMethod?: LvsMethod;
  notifyUp?: ScriptRef;
  notifyDown?: ScriptRef;
  uthreshold?: number;
  lthreshold?: number;
  /** Unset: the virtual server's inhibit_on_failure. */
  inhibitOnFailure?: boolean;
  /** Unset: the virtual server's alpha. */
  alpha?: boolean;
  /** Unset: global smtp_alert_checker / smtp_alert, else on. */
  smtpAlert?: boolean;
  virtualhost?: string;
  snmpName?: string;
  /** Every checker block, in config order. */
  checkers: Checker[];
}

export type VirtualServerKind = 'address' | 'fwmark' | 'group';

interface VirtualServerBase extends Located, CheckerTimers {
  family?: 4 | 6;
  /** Unset (or 0 as written): only valid for persistent services. */
  port?: number;
  /** `lvs_sched`, old spelling `lb_algo`; unset: wlc (keepalived reports it). */
  lvsSched?: LvsScheduler;
  schedulerFlags: SchedulerFlag[];
  /** Accepted, no effect. */
  hashed: boolean;
  /** `lvs_method`, old spelling `lb_kind`; unset: NAT (keepalived reports it). */
  lvsMethod?: LvsMethod;
  /** Seconds; unset: not persistent. */
  persistenceTimeout?: number;
  /** IPv4 netmask or IPv6 prefix length, as written. */
  persistenceGranularity?: string;
  persistenceEngine?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  ipFamily?: 'inet' | 'inet6';
  haSuspend: boolean;
  /** Unset: global smtp_alert_checker / smtp_alert, else off. */
  smtpAlert?: boolean;
  virtualhost?: string;
  snmpName?: string;
  alpha: boolean;
  omega: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptRef;
  quorumDown?: ScriptRef;
  /** Default weight of real servers. */
  weight: number;
  inhibitOnFailure: boolean;
  sorryServer?: ServerAddress;
  sorryServerInhibit: boolean;
  sorryServerLvsMethod?: LvsMethod;
  realServers: RealServer[];
}

/** `virtual_server IP [PORT]`. */
export interface AddressVirtualServer extends VirtualServerBase {
  kind: 'address';
  address: string;
  family: 4 | 6;
  fwmark?: undefined;
  group?: undefined;
}

/** `virtual_server fwmark N`. */
export interface FwmarkVirtualServer extends VirtualServerBase {
  kind: 'fwmark';
  fwmark: number;
  address?: undefined;
  group?: undefined;
}

/** `virtual_server group NAME`. */
export interface GroupVirtualServer extends VirtualServerBase {
  kind: 'group';
  /** The virtual_server_group name. */
  group: string;
  address?: undefined;
  fwmark?: undefined;
}

/** Which header form it was written with: `IP [PORT]`, `fwmark N` or `group NAME`. */
export type VirtualServer = AddressVirtualServer | FwmarkVirtualServer | GroupVirtualServer;

/** The top-level `SSL { }` block: TLS context of SSL_GET checkers (generated when absent). */
export interface SslConfig extends Located {
  password?: string;
  ca?: string;
  certificate?: string;
  key?: string;
}

// ---- resolved: what runs ------------------------------------------------------------------------

/** Largest IPVS weight (keepalived real_weight(), the weight keyword's range). */
export const WEIGHT_MAX = 2147483647;

/** A checker's timers after inheritance (checker ← real_server ← virtual_server ← defaults). */
export interface CheckerTiming {
  delayLoop: number;
  retry: number;
  delayBeforeRetry: number;
  warmup: number;
}

/** One checker as it runs: the checker as written and what it inherits, filled in. */
export interface ResolvedCheck {
  /** As written; each host of an SMTP_CHECK is a checker of its own, with the SMTP_CHECK's values. */
  checker: Checker;
  /** Undefined for FILE_CHECK and BFD_CHECK, which follow events, not a timer. */
  timing?: CheckerTiming;
  /** Seconds; the default 5 for checkers that make no connection of their own. */
  connectTimeout: number;
  /** Starts failed: the checker's alpha, else the real server's, else the virtual server's
   * (BFD_CHECK: its own only; FILE_CHECK: never). */
  alpha: boolean;
  /** Where a network checker connects: connect_ip and connect_port, else the real server's. */
  host: string;
  port: number;
  /** HTTP_GET/SSL_GET: the Host header of each url (url, checker, real server, virtual server). */
  urlVirtualhosts: (string | undefined)[];
  /** SSL_GET with enable_sni: each url's TLS SNI name (url, checker, virtual server virtualhost;
   * keepalived skips the real server's here); undefined: no SNI. */
  urlSni: (string | undefined)[];
  /** MISC_CHECK: misc_timeout, else the checker's delay_loop (whole seconds as written). */
  miscTimeout: number;
  /** FILE_CHECK: its track_file's file, and the checker's weight and reverse, else the track_file's
   * (undefined when the track_file has no file: keepalived drops the checker). */
  file?: { path: string; weight: number; reverse: boolean };
}

type Inherited = 'port' | 'weight' | 'lvsMethod' | 'inhibitOnFailure' | 'alpha' | 'uthreshold' | 'lthreshold' | keyof CheckerTimers;

export interface ResolvedRealServer extends Omit<RealServer, Inherited> {
  /** Its own, else the virtual server's (fwmark and group services: 0 when unset). */
  port: number;
  weight: number;
  lvsMethod: LvsMethod;
  inhibitOnFailure: boolean;
  alpha: boolean;
  uthreshold: number;
  lthreshold: number;
  /** Its checkers, in config order, as they run. */
  checks: ResolvedCheck[];
  /** As written. */
  written: RealServer;
}

/** The sorry_server with its port (the virtual server's when unset) and forwarding method. */
export interface ResolvedSorryServer {
  address: string;
  family: 4 | 6;
  port: number;
  lvsMethod: LvsMethod;
}

type VsResolved = 'port' | 'lvsSched' | 'lvsMethod' | 'protocol' | 'realServers' | 'sorryServer' | keyof CheckerTimers;

interface ResolvedVirtualServerBase {
  /** 0 when unset (persistent services). */
  port: number;
  lvsSched: LvsScheduler;
  lvsMethod: LvsMethod;
  /** TCP when unset, as the load balancer has always run it. */
  protocol: 'TCP' | 'UDP' | 'SCTP';
  /** Seconds; what the forwarder gives a connection to a real server. */
  connectTimeout: number;
  realServers: ResolvedRealServer[];
  sorryServer?: ResolvedSorryServer;
}

export type ResolvedAddressVirtualServer = Omit<AddressVirtualServer, VsResolved> & ResolvedVirtualServerBase & { written: AddressVirtualServer };
export type ResolvedFwmarkVirtualServer = Omit<FwmarkVirtualServer, VsResolved> & ResolvedVirtualServerBase & { written: FwmarkVirtualServer };
export type ResolvedGroupVirtualServer = Omit<GroupVirtualServer, VsResolved> & ResolvedVirtualServerBase & { written: GroupVirtualServer };
/**
 * IPVS's connection timeouts in seconds (global_defs lvs_timeouts; ipvsadm --set): an established
 * TCP connection, one half-closed (FIN_WAIT), and a UDP flow, each closed after this long idle.
 */
export interface LvsTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

export type ResolvedVirtualServer = ResolvedAddressVirtualServer | ResolvedFwmarkVirtualServer | ResolvedGroupVirtualServer;
