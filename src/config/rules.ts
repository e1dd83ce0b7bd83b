// Every diagnostic rule id, with what it means. Ids are stable: users filter and suppress by them,
// and CI scripts match on them. RuleId is the only type a diagnostic's rule can have, so a new id
// cannot be used before it is documented here (docs/rules.md is generated from this table).

export type RuleFamily = 'syntax' | 'keyword' | 'value' | 'vrrp' | 'lvs' | 'host' | 'lint' | 'pair' | 'lab';

const r = (family: RuleFamily, doc: string) => ({ family, doc });

export const RULES = {
  // ---- reading the text ----
  'file-missing': r('syntax', 'The config file does not exist (an error, exit 4, only with -e).'),
  'file-unreadable': r('syntax', 'The config file cannot be read, or is a binary file or larger than 16 MiB (exit 4).'),
  'file-skipped': r(
    'syntax',
    'A config file or include that is a directory, an executable or not a regular file (a FIFO, a device): keepalived skips it and -t still exits 0.',
  ),
  'include-missing': r('syntax', 'An include matched no file: keepalived\'s "Config files missing"; an error with -e or includem/includew/includea.'),
  'include-cycle': r('syntax', 'An include would read a file that is already being read; it is not followed.'),
  'include-depth': r('syntax', 'Includes nested too deep; the deeper one is not followed.'),
  'include-empty': r('syntax', 'An include with no file name.'),
  'definition-reserved': r('syntax', "A $NAME definition starting with '_', reserved for keepalived's own names."),
  'definition-recursive': r('syntax', 'Definitions that expand into each other without end.'),
  'expansion-limit': r('syntax', 'Expansion (~SEQ, definitions) produced more lines or characters than the reader allows.'),
  'seq-syntax': r('syntax', 'A malformed ~SEQ, ~SEQx or ~LST.'),
  'quote-unterminated': r('syntax', 'A quote that is not closed on its line.'),
  'brace-missing': r('syntax', "A block that is never closed: keepalived's \"There are N missing '}'s or extra '{'s\"."),
  'brace-extra': r('syntax', "A '}' that closes nothing."),
  'brace-orphan': r('syntax', "A '{' with no keyword before it."),
  lexer: r('syntax', 'A line the lexer cannot read (a bug: please report it).'),
  internal: r('syntax', 'The grammar rejected the token stream (a bug: please report it).'),
  // ---- keywords ----
  'unknown-keyword': r(
    'keyword',
    "A keyword keepalived does not know in this block. If it opens a block, keepalived ignores the '{': the lines inside are read as keywords of the enclosing block and the '}' closes it. Comes with a did-you-mean.",
  ),
  'deprecated-keyword': r('keyword', 'An old spelling or a deprecated keyword; the message names the replacement.'),
  'keyword-newer': r(
    'keyword',
    'A keyword added after the keepalived version judged for (-t and lint: --target-version, default 2.2.7): an unknown keyword there (an error, -t exit 5). Where no version is judged for (the daemon), a warning.',
  ),
  'keyword-not-implemented': r(
    'keyword',
    "A keyword keepalived-ts accepts and checks but does not act on yet (docs/compatibility.md); a warning, so exit codes stay keepalived's. `lint --strict` fails on it; the daemon logs it once per keyword.",
  ),
  'keyword-repeated': r('keyword', 'A keyword set twice in one block; which one wins depends on the keyword, as in keepalived.'),
  'block-expected': r(
    'keyword',
    "A block keyword written without '{ ... }'. A list block (virtual_ipaddress, notification_email...) then reads the lines that follow as its items, up to the first '}', as keepalived does: when that '}' was the enclosing block's, the enclosing block reads on to the next one. Words after the keyword are keepalived's \"extra parameters\" error; without them it is a warning.",
  ),
  'block-unexpected': r(
    'keyword',
    "A '{' after a keyword that opens no block: ignored, so the lines inside belong to the enclosing block and the '}' closes it, as in keepalived.",
  ),
  'name-duplicate': r('keyword', 'A second vrrp_instance, vrrp_sync_group or track_group of the same name: keepalived skips the whole block.'),
  'name-missing': r('keyword', 'A named block (vrrp_script, vrrp_instance...) without its name.'),
  // ---- values ----
  'value-range': r('value', 'A number outside the range keepalived accepts; the default is kept.'),
  'value-enum': r('value', 'A word that is not one of the allowed values (state SLAVE, lb_algo roundrobin...).'),
  'value-invalid': r('value', 'A value of the wrong form (not a number, missing).'),
  'value-missing': r(
    'value',
    'A keyword without its value where keepalived reads it regardless: keepalived -t stops at that line with exit 2, and keepalived would not start.',
  ),
  'value-adjusted': r('value', 'A value keepalived accepts but adjusts.'),
  'address-invalid': r('value', 'Not an IP address, prefix or port where one is needed; the line or block is skipped.'),
  'address-option': r('value', 'An unknown or incomplete option on a virtual address line.'),
  'address-family-mismatch': r('value', 'Addresses of different families where one family is needed.'),
  'route-invalid': r('value', 'A virtual or static route that ip route would not accept.'),
  'rule-invalid': r('value', 'A virtual or static rule that ip rule would not accept.'),
  // ---- VRRP semantics (keepalived -t reports these) ----
  'vrid-missing': r(
    'vrrp',
    'A vrrp_instance without a valid virtual_router_id. keepalived checks this first, for every instance; at the first it stops checking (-t exit 5), and the daemon does not start (exit 2).',
  ),
  'interface-none': r(
    'vrrp',
    'A vrrp_instance without an interface: keepalived 2.2.7\'s "Unknown interface!", unicast or not. As for vrid-missing, keepalived stops there and the daemon does not start (exit 2).',
  ),
  'vrid-duplicate': r(
    'vrrp',
    "Two instances with the same VRID and family on one interface: multicasting to one group, or unicasting from one source address to a peer in common (keepalived's check_vrid_conflicts). keepalived reports every such pair, then does not start (exit 2); nor does the daemon.",
  ),
  'vip-none': r(
    'vrrp',
    'A vrrp_instance without virtual addresses (and no no_virtual_ipaddress). Under VRRPv3 or vrrp_strict keepalived cannot complete the instance: -t says so (exit 5) and stops checking there, and the daemon does not start (keepalived\'s exit 2, "exited with permanent error CONFIG").',
  ),
  'vip-family': r('vrrp', 'A virtual address of the other family than the instance; it is dropped.'),
  'advert-int-v2': r('vrrp', 'A fractional advert_int with VRRPv2, rounded to whole seconds.'),
  'advert-int-v3': r('vrrp', "An advert_int above VRRPv3's 40.95 s."),
  'nopreempt-master': r('vrrp', 'nopreempt with state MASTER: keepalived clears nopreempt.'),
  'preempt-delay-master': r('vrrp', 'preempt_delay with state MASTER: keepalived clears it.'),
  'owner-nopreempt': r('vrrp', 'nopreempt on an address owner (priority 255): cleared.'),
  'owner-weighted-tracker': r(
    'vrrp',
    'A weighted tracker on an address owner, whose priority never moves: no longer tracked (a tracked file of weight 1 becomes weight 0).',
  ),
  'sync-weighted-tracker': r(
    'vrrp',
    'A weighted tracker on a sync group member without sync_group_tracking_weight: a script or bfd is dropped, an interface (and a file of weight 1) tracked at weight 0.',
  ),
  'master-ah': r('vrrp', 'state MASTER with AH authentication (not the address owner): keepalived starts it as BACKUP.'),
  'auth-pass-long': r('vrrp', 'auth_pass longer than 8 characters: peers compare only the first 8.'),
  'notification-email-empty': r('vrrp', 'An empty notification_email block in global_defs.'),
  'interface-name-long': r('vrrp', 'An interface name longer than the 15 characters the kernel takes; keepalived ignores it.'),
  'vmac-unicast': r('vrrp', 'unicast peers with use_vmac (or use_ipvlan) and no vmac_xmit_base: keepalived sets vmac_xmit_base.'),
  'unicast-ttl-no-peer': r('vrrp', 'unicast_ttl without unicast peers: keepalived resets it.'),
  'unicast-no-peers': r(
    'vrrp',
    'unicast_src_ip, unicast_peer, check_unicast_src or old_unicast_checksum without any unicast peer: keepalived uses multicast and calls this deprecated.',
  ),
  'auth-ignored': r('vrrp', 'authentication keepalived ignores: under vrrp_strict, with VRRPv3, or without auth_pass.'),
  'strict-accept-v2': r('vrrp', 'accept with vrrp_strict and VRRPv2 (not RFC 3768): keepalived clears it.'),
  'strict-state-owner': r(
    'vrrp',
    'Under vrrp_strict, state MASTER without priority 255 (or the owner without MASTER): keepalived sets the state from the priority.',
  ),
  'strict-vmac-xmit-base': r('vrrp', 'vmac_xmit_base under vrrp_strict: keepalived clears it.'),
  'track-own-interface': r('vrrp', "track_interface naming the instance's own interface, which it always tracks: ignored."),
  'track-missing': r('vrrp', 'A tracked script, file, process or BFD instance that is not defined above the line that tracks it; the reference is dropped.'),
  'track-interface-twice': r(
    'vrrp',
    "An interface tracked by a sync group and by one of its members (its own interface or a track_interface line); the group's weight applies.",
  ),
  'track-duplicate': r('vrrp', 'An instance or sync group tracks the same object twice; the second line is dropped.'),
  'script-missing': r('vrrp', 'A vrrp_script without a script; it is removed.'),
  'process-missing': r('vrrp', 'A vrrp_track_process without a process.'),
  'file-missing-keyword': r('vrrp', 'A track_file without a file.'),
  'sync-group-empty': r('vrrp', 'A vrrp_sync_group without members.'),
  'sync-group-single': r('vrrp', 'A vrrp_sync_group with one member.'),
  'sync-group-member-missing': r('vrrp', 'A sync group member that is not a vrrp_instance.'),
  'sync-group-member-twice': r('vrrp', 'An instance in two sync groups.'),
  'route-no-interface': r('vrrp', 'A virtual route without dev cannot be tracked.'),
  'rule-no-preference': r('vrrp', 'A rule without preference; keepalived numbers them down from 16384.'),
  'script-security': r(
    'vrrp',
    'Scripts configured without enable_script_security (keepalived -t exit 6). On this machine (-t, lint --host) only scripts that exist count, as in keepalived.',
  ),
  // ---- LVS semantics (keepalived -t reports these) ----
  'vs-header-invalid': r('lvs', 'A virtual_server header that is not IP PORT, fwmark N or group NAME.'),
  'vs-port-missing': r('lvs', 'A virtual server without port that is not persistent.'),
  'vs-sched-missing': r('lvs', 'No lvs_sched: keepalived uses wlc.'),
  'vs-lvs-method-missing': r('lvs', 'No lvs_method: keepalived uses NAT.'),
  'vs-protocol-missing': r('lvs', 'No protocol: keepalived uses UDP(!) for address services.'),
  'vs-fwmark-protocol': r('lvs', 'protocol on a fwmark service, where it is ignored.'),
  'vs-no-real-servers': r('lvs', 'A virtual server without real servers is ignored.'),
  'vs-group-missing': r('lvs', 'virtual_server group NAME names no virtual_server_group.'),
  'vs-ha-suspend-fwmark': r('lvs', 'ha_suspend on a fwmark service.'),
  'vs-hysteresis': r('lvs', 'hysteresis not below quorum.'),
  'vs-quorum-weight': r('lvs', 'quorum above the total weight of the real servers.'),
  'vs-ops-not-udp': r('lvs', 'One-packet scheduling on a service that is not UDP.'),
  'vsg-empty': r('lvs', 'A virtual_server_group without entries.'),
  'vsg-family-mixed': r('lvs', 'A virtual_server_group mixing families with family-less fwmarks.'),
  'ip-family-conflict': r('lvs', 'ip_family contradicts the service address.'),
  'rs-duplicate': r('lvs', 'The same real server twice in a virtual server.'),
  'rs-family-mismatch': r('lvs', 'A real server of the other family than its virtual server.'),
  'rs-port-ignored': r('lvs', 'A port on a real server of a fwmark service.'),
  'rs-port-mismatch': r('lvs', 'Real server and virtual server ports differ with DR or TUN.'),
  'sorry-server-missing': r('lvs', 'sorry_server options without a sorry_server.'),
  'sched-flag-ignored': r('lvs', 'A scheduler flag that does not apply to the scheduler.'),
  'checker-no-url': r('lvs', 'HTTP_GET or SSL_GET without url (keepalived 2.2.7 crashes on it).'),
  'url-no-path': r('lvs', 'A url block without path.'),
  'url-regex-offsets': r('lvs', 'regex_min_offset above regex_max_offset.'),
  'url-regex-unused': r('lvs', 'Regex options without a regex.'),
  'regex-extra-words': r('lvs', 'A regex written as several words.'),
  'regex-option-unknown': r('lvs', 'An unknown regex option.'),
  'misc-no-path': r('lvs', 'MISC_CHECK without misc_path.'),
  'file-check-no-track-file': r('lvs', 'FILE_CHECK without track_file.'),
  'bfd-check-no-name': r('lvs', 'BFD_CHECK without the BFD instance name.'),
  'checker-link-local': r('lvs', 'A link-local checker address without bind_if.'),
  'smtp-host-deprecated': r('lvs', 'The deprecated host block of SMTP_CHECK.'),
  'udp-reply-length': r('lvs', 'UDP_CHECK min_reply_length above max_reply_length.'),
  // ---- this machine (lint --host, keepalived -t) ----
  'host-interface': r('host', 'An interface that does not exist on this machine.'),
  'host-kernel': r(
    'host',
    'disable_local_igmp where /proc/sys/net/ipv4/igmp_link_local_mcast_reports cannot be written (an old kernel, or not root): keepalived ignores the option.',
  ),
  'host-script': r(
    'host',
    'A script that is missing here, or that its user cannot execute; keepalived disables it (a missing vrrp_script is an error, -t exit 5).',
  ),
  'script-unsafe': r(
    'host',
    'A script that runs as root from a path a non-root user can change (keepalived\'s "Unsafe permissions found for script"); with enable_script_security keepalived disables it, and a disabled vrrp_script is an error (-t exit 5).',
  ),
  'script-user': r(
    'host',
    'A script whose user cannot be found here; keepalived ignores it. With enable_script_security and neither script_user nor a keepalived_script user, an error (-t exit 5).',
  ),
  // ---- lint: accepted by keepalived, wrong at run time ----
  'vip-duplicate': r('lint', 'The same VIP in two places: whichever instance becomes MASTER last takes it.'),
  'vrrp-script-unused': r('lint', 'A vrrp_script no instance tracks never runs.'),
  'script-unquoted-args': r('lint', 'Unquoted words after a script that keepalived drops (script killall -0 nginx runs plain killall).'),
  'script-needs-shell': r('lint', 'Shell syntax in a script that keepalived runs without a shell.'),
  // ---- pair lint ----
  'pair-vrid-missing': r('pair', 'An instance on one director with no instance of the same VRID on the other.'),
  'pair-vip-mismatch': r('pair', 'The two directors carry different VIPs for one VRID.'),
  'pair-auth-mismatch': r('pair', "Different authentication: each side drops the other's adverts (split brain)."),
  'pair-advert-int-mismatch': r('pair', 'Different advert_int (VRRPv2 drops the adverts: split brain).'),
  'pair-version-mismatch': r('pair', 'Different VRRP versions.'),
  'pair-priority-equal': r('pair', 'Equal priorities: the interface address decides every election.'),
  'pair-unicast-peer': r('pair', "A unicast_peer list that misses the other director's unicast_src_ip."),
  'pair-unicast-mismatch': r('pair', 'One director unicast, the other multicast.'),
  'pair-vs-missing': r('pair', 'A virtual server on one director only.'),
  'pair-vs-mismatch': r('pair', 'A virtual server configured differently on the two directors.'),
  'weight-too-small': r('pair', 'A tracker whose weight cannot move mastership: |weight| not above the priority gap.'),
  // ---- lab scenarios (docs/lab.md) ----
  'lab-yaml': r('lab', "The scenario is not valid YAML (the yaml parser's message)."),
  'lab-file': r('lab', "The scenario, or a keepalived.conf it names, cannot be read (a warning for a reload's config)."),
  'lab-unknown-key': r('lab', 'A key the scenario format does not have at this place. Comes with a did-you-mean.'),
  'lab-missing-key': r('lab', "A key that must be given (nodes, at, a fault's node...), or a choice the loader cannot make alone (which segment)."),
  'lab-value': r('lab', 'A value of the wrong form: not a time ("5x"), not a probability, not an address, not one of the allowed words.'),
  'lab-entry-kind': r('lab', 'A timeline entry with no fault or two, or an expectation with no kind or two.'),
  'lab-unknown-node': r('lab', "A name that is not one of the scenario's nodes (or not on the segment meant)."),
  'lab-unknown-name': r('lab', 'A segment, real server or client the scenario does not define.'),
  'lab-unknown-label': r('lab', "An expectation's `after` that is neither a label nor the index of a timeline entry."),
  'lab-unknown-tracker': r('lab', "A script or file fault naming a vrrp_script or track_file the node's keepalived.conf does not have."),
  'lab-unknown-interface': r('lab', 'An interface fault naming an interface the node neither uses in its config nor has on a segment.'),
  'lab-unknown-instance': r('lab', 'An expectation naming a vrrp_instance the node (or any node) does not have.'),
  'lab-duplicate': r('lab', 'A label, host name or segment address used twice, or a node in two partition groups.'),
  'lab-topology': r(
    'lab',
    'Wiring that cannot be derived or does not fit the configs (no address to choose, an instance on no segment, a member address that is not unicast_src_ip).',
  ),
  'lab-node-config': r('lab', 'A node whose keepalived.conf has errors (listed with their own ids): the lab does not run it.'),
  'lab-sequence': r(
    'lab',
    'A fault that makes no sense where the timeline has got to: starting a running node or killing a stopped one (errors), healing a whole segment (a warning).',
  ),
  'lab-after-end': r('lab', 'A fault or expectation after the end of the run (`duration`).'),
  'lab-limit': r(
    'lab',
    "A scenario beyond the lab's bounds (docs/lab.md): over 1 MiB or 50,000 lines and flow separators, a YAML alias bomb, over 1 h of virtual time, clients over 10,000 requests/s, over 16 nodes, over 1,000 entries in a list.",
  ),
  'lab-not-in-config': r('lab', "A client target, real server or VIP that no node's config has: it plays no part in the run."),
} as const satisfies Record<string, { family: RuleFamily; doc: string }>;

export type RuleId = keyof typeof RULES;

export function renderRuleReference(): string {
  const lines = [
    '# Diagnostic rules',
    '',
    'Generated by `keepalived-ts rules` from `src/config/rules.ts`. Every finding carries one of these ids',
    '(`FILE:LINE:COL: severity: message [rule-id]`, or `rule` in `--format json`).',
    '',
  ];
  const families: [RuleFamily, string][] = [
    ['syntax', 'Reading the text'],
    ['keyword', 'Keywords'],
    ['value', 'Values'],
    ['vrrp', 'VRRP (keepalived -t reports these)'],
    ['lvs', 'LVS (keepalived -t reports these)'],
    ['host', 'This machine (`lint --host`)'],
    ['lint', 'Lint: accepted by keepalived, wrong at run time'],
    ['pair', 'Pair lint (`lint --pair`)'],
    ['lab', 'Lab scenarios (`keepalived-ts lab`, docs/lab.md)'],
  ];
  for (const [family, title] of families) {
    lines.push(`## ${title}`, '', '| rule | meaning |', '| --- | --- |');
    for (const [id, rule] of Object.entries(RULES)) if (rule.family === family) lines.push(`| \`${id}\` | ${rule.doc.replace(/\|/g, '\\|')} |`);
    lines.push('');
  }
  return lines.join('\n');
}
