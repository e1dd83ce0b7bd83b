import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';

const load = (text: string) => loadConfigText(text, 'k.conf', { configId: 'lb1' });
const rules = (text: string) => load(text).diagnostics.map((d) => `${d.line}:${d.rule}`);

const VI = (body: string) =>
  `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n  192.168.1.100/24 dev eth0 label eth0:vip\n }\n}\n`;

describe('vrrp_instance model', () => {
  it('applies keepalived defaults and global VRRP defaults', () => {
    const { config, diagnostics } = load(VI(' priority 150'));
    expect(diagnostics).toEqual([]);
    const i = config.resolved.vrrpInstances[0];
    expect(i).toMatchObject({
      name: 'VI_1',
      state: 'BACKUP',
      interface: 'eth0',
      virtualRouterId: 51,
      priority: 150,
      advertInt: 1,
      version: 2,
      nopreempt: false,
      preemptDelay: 0,
      garpMasterDelay: 5,
      garpMasterRepeat: 5,
      garpMasterRefresh: 0,
      downTimerAdverts: 3,
      accept: true,
    });
    expect(i.virtualIpaddress).toMatchObject([{ address: '192.168.1.100', prefix: 24, family: 4, dev: 'eth0', label: 'eth0:vip' }]);
    expect(i.span).toEqual({ file: 'k.conf', line: 1, col: 1 });
    expect(i.spans.priority).toEqual({ file: 'k.conf', line: 4, col: 2 });
    expect(config.globalDefs.vrrpMcastGroup4).toBe('224.0.0.18');
  });

  it('vrrp_min_garp: one GARP and no second burst, keeping garp settings given before it with other values', () => {
    const garp = (globals: string) => {
      const i = load(`global_defs {\n${globals}\n}\n${VI(' priority 150')}`).config.resolved.vrrpInstances[0];
      return [i.garpMasterRepeat, i.garpMasterDelay, i.garpLowerPrioRepeat, i.garpLowerPrioDelay, i.garpMasterRefreshRepeat];
    };
    expect(garp(' vrrp_min_garp')).toEqual([1, 0, 1, 0, 0]);
    expect(garp(' vrrp_min_garp false')).toEqual([5, 5, 5, 5, 1]);
    // Set before it: kept unless it still has the default value (keepalived compares with the default).
    expect(garp(' vrrp_garp_master_repeat 3\n vrrp_min_garp')).toEqual([3, 0, 3, 0, 0]);
    expect(garp(' vrrp_garp_master_repeat 5\n vrrp_min_garp')).toEqual([1, 0, 1, 0, 0]);
    // Set after it: wins.
    expect(garp(' vrrp_min_garp\n vrrp_garp_master_delay 2')).toEqual([1, 2, 1, 2, 0]);
    // An instance's own settings still win over the global ones.
    const own = load(`global_defs {\n vrrp_min_garp\n}\n${VI(' garp_master_repeat 4')}`).config.resolved.vrrpInstances[0];
    expect(own.garpMasterRepeat).toBe(4);
  });

  it('makes state MASTER without a priority the address owner (255), as keepalived does', () => {
    expect(load(VI(' state MASTER')).config.vrrpInstances[0].priority).toBe(255);
    expect(load(VI(' state MASTER\n priority 100')).config.vrrpInstances[0].priority).toBe(100);
  });

  it('reads authentication, unicast peers, trackers with weights and notify scripts', () => {
    const { config, diagnostics } = load(`
vrrp_script chk { script "/usr/local/bin/chk --port 80"
 weight -20 }
${VI(` authentication {\n  auth_type PASS\n  auth_pass secret\n }
 unicast_src_ip 10.0.0.1
 unicast_peer {\n  10.0.0.2\n  10.0.0.3 min_ttl 250\n }
 track_interface {\n  eth1 weight -10\n  eth2\n }
 track_script {\n  chk weight -30 reverse\n }
 notify_master "/etc/keepalived/notify.sh master" root
 notify /usr/bin/logger`)}
global_defs {
 enable_script_security
}`);
    expect(diagnostics).toEqual([]);
    const i = config.vrrpInstances[0];
    expect(i.authentication).toMatchObject({ authType: 'PASS', authPass: 'secret' });
    expect(i.unicastSrcIp).toBe('10.0.0.1');
    expect(i.unicastPeer).toMatchObject([{ address: '10.0.0.2' }, { address: '10.0.0.3', minTtl: 250 }]);
    expect(i.trackInterface).toMatchObject([{ name: 'eth1', weight: -10 }, { name: 'eth2' }]);
    expect(i.trackInterface[1].weight).toBeUndefined();
    expect(i.trackScript).toMatchObject([{ name: 'chk', weight: -30, reverse: true }]);
    expect(i.notifyMaster).toMatchObject({ argv: ['/etc/keepalived/notify.sh', 'master'], user: 'root' });
    expect(config.vrrpScripts[0]).toMatchObject({
      name: 'chk',
      weight: -20,
      interval: 1,
      rise: 1,
      fall: 1,
      script: { argv: ['/usr/local/bin/chk', '--port', '80'] },
    });
  });

  it('accepts mcast_src_ip as the same field as unicast_src_ip', () => {
    expect(load(VI(' mcast_src_ip 10.1.1.1')).config.vrrpInstances[0].unicastSrcIp).toBe('10.1.1.1');
  });

  it('takes the first script word as the command and keeps dropped words for lint', () => {
    const { config } = load('vrrp_script s {\n script /usr/bin/killall -0 nginx\n}\n');
    expect(config.vrrpScripts[0].script).toMatchObject({ command: '/usr/bin/killall', dropped: ['-0', 'nginx'] });
  });

  it('shares one read-only argv among scripts with the same command line, each with its own words', () => {
    const { config } = load('~SEQ(i,1,3) vrrp_script s$i { script "/bin/chk --port 80" }\nvrrp_script t { script /bin/other }\n');
    const [a, b, c, d] = config.vrrpScripts.map((s) => s.script!);
    expect(a.argv).toEqual(['/bin/chk', '--port', '80']);
    expect(b.argv).toBe(a.argv);
    expect(c.argv).toBe(a.argv);
    expect(Object.isFrozen(a.argv)).toBe(true);
    expect(d).toMatchObject({ command: '/bin/other', argv: ['/bin/other'] });
    // The record is each script's own: a user set on one is not on the others.
    expect(b).not.toBe(a);
  });

  it('gives the rows of one ~SEQ line one span object per position, and other lines their own', () => {
    const { config } = load('~SEQ(i,1,3) vrrp_script s$i { script /bin/true }\nvrrp_script t {\n script /bin/true\n}\n');
    const [a, b, c, t] = config.vrrpScripts;
    expect(b.span).toBe(a.span);
    expect(c.spans.script).toBe(a.spans.script);
    expect(a.span).toMatchObject({ file: 'k.conf', line: 1, col: 13 });
    expect(a.spans.script).toEqual({ file: 'k.conf', line: 1, col: 31 });
    expect(t.span).toMatchObject({ line: 2, col: 1 });
    expect(t.spans.script).toEqual({ file: 'k.conf', line: 3, col: 2 });
  });
});

describe('keepalived -t findings on VRRP blocks', () => {
  it('flags values outside their range and keeps the default, with the position of the value', () => {
    const { config, diagnostics } = load(VI(' priority 300'));
    expect(diagnostics).toMatchObject([{ rule: 'value-range', line: 4, col: 11, exit: 5 }]);
    expect(diagnostics[0].message).toContain("number '300' outside range [1, 255]");
    expect(config.vrrpInstances[0].priority).toBe(100);
  });

  it('requires a virtual_router_id', () => {
    expect(rules('vrrp_instance VI_1 {\n virtual_router_id 0\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n')).toEqual(['2:value-range', '1:vrid-missing']);
  });

  it('rejects state SLAVE and suggests the valid states', () => {
    const d = load(VI(' state SLAVE')).diagnostics;
    expect(d).toMatchObject([{ rule: 'value-enum', line: 4 }]);
    expect(d[0].hint).toContain('MASTER, BACKUP');
  });

  it('suggests the right spelling for typos, even from another block', () => {
    const d = load('vrrp_script s {\n script "/bin/true"\n inerval 2\n}\n').diagnostics;
    expect(d[0]).toMatchObject({ rule: 'unknown-keyword', line: 3 });
    expect(d[0].hint).toBe("did you mean 'interval'?");
  });

  it('rounds a fractional VRRPv2 advert_int and keeps it in v3', () => {
    const v2 = load(VI(' advert_int 0.5'));
    expect(v2.diagnostics.map((d) => d.rule)).toEqual(['advert-int-v2']);
    expect(v2.config.vrrpInstances[0].advertInt).toBe(1);
    const v3 = load(VI(' advert_int 0.5\n version 3'));
    expect(v3.diagnostics).toEqual([]);
    expect(v3.config.vrrpInstances[0].advertInt).toBe(0.5);
  });

  it('clears nopreempt and preempt_delay with state MASTER', () => {
    const r = load(VI(' state MASTER\n priority 100\n nopreempt\n preempt_delay 10'));
    expect(r.diagnostics.map((d) => d.rule)).toEqual(['nopreempt-master', 'preempt-delay-master']);
    expect(r.config.vrrpInstances[0]).toMatchObject({ nopreempt: false, preemptDelay: 0 });
  });

  it('truncates auth_pass to 8 characters', () => {
    const r = load(VI(' authentication {\n auth_type PASS\n auth_pass 123456789\n }'));
    expect(r.diagnostics.map((d) => `${d.line}:${d.rule}`)).toEqual(['6:auth-pass-long']);
    expect(r.config.vrrpInstances[0].authentication?.authPass).toBe('12345678');
  });

  it('accepts auth_type AH; state MASTER with AH starts BACKUP unless it is the address owner', () => {
    const r = load(VI(' authentication {\n  auth_type AH\n  auth_pass 1111\n }'));
    expect(r.diagnostics).toEqual([]);
    expect(r.config.vrrpInstances[0].authentication).toMatchObject({ authType: 'AH', authPass: '1111' });
    const m = load(VI(' state MASTER\n priority 100\n authentication {\n  auth_type AH\n  auth_pass 1111\n }'));
    expect(m.diagnostics.map((d) => d.rule)).toEqual(['master-ah']);
    expect(m.config.vrrpInstances[0].state).toBe('BACKUP');
    // state MASTER without a priority is the address owner (255): it keeps its state.
    const owner = load(VI(' state MASTER\n authentication {\n  auth_type AH\n  auth_pass 1111\n }'));
    expect(owner.diagnostics).toEqual([]);
    expect(owner.config.vrrpInstances[0].state).toBe('MASTER');
  });

  it('drops a track_script that names no vrrp_script', () => {
    const r = load(VI(' track_script {\n  chk_nginx\n }'));
    expect(r.diagnostics.map((d) => `${d.line}:${d.rule}`)).toEqual(['5:track-missing']);
    expect(r.config.vrrpInstances[0].trackScript).toEqual([]);
  });

  it('reports the same VRID twice on one interface', () => {
    const two = VI('') + VI('').replace('VI_1', 'VI_2');
    expect(load(two).diagnostics.map((d) => d.rule)).toEqual(['vrid-duplicate']);
    // Different unicast peer sets may share a VRID.
    const uni = VI(' unicast_peer {\n 10.0.0.2\n }') + VI(' unicast_peer {\n 10.0.0.3\n }').replace('VI_1', 'VI_2');
    expect(load(uni).diagnostics).toEqual([]);
  });

  it("checks unicast VRIDs as keepalived 2.2.7's check_vrid_conflicts: one source, a peer in common", () => {
    const peers = (list: string) =>
      ` unicast_peer {\n${list
        .split(' ')
        .map((p) => `  ${p}\n`)
        .join('')} }`;
    const pair = (a: string, b: string) => VI(a) + VI(b).replace('VI_1', 'VI_2');
    const found = (text: string) => load(text).diagnostics.map((d) => `${d.line} ${d.message}`);
    // No unicast_src_ip: both send from eth0's address. One peer of two in common is a conflict.
    expect(found(pair(peers('10.0.0.2 10.0.0.3'), peers('10.0.0.3')))).toEqual(['14 (VI_1) duplicate VRID conflict with VI_2 VRID 51']);
    // Different sources: none (keepalived 2.2.7 -t exits 0 on fixture 87).
    const src = (ip: string, list: string) => ` unicast_src_ip ${ip}\n${peers(list)}`;
    expect(found(pair(src('10.0.0.1', '10.0.0.2'), src('10.0.0.5', '10.0.0.2')))).toEqual([]);
    // A conflict stops the daemon's start, as a multicast one does.
    expect(load(pair(peers('10.0.0.2'), peers('10.0.0.2'))).diagnostics.map((d) => d.stopsVrrp)).toEqual([true]);
  });

  it('skips a vrrp_instance, vrrp_sync_group or track_group without exactly one name, reading nothing inside', () => {
    const r = load(
      `vrrp_instance {\n interface_name eth0\n}\nvrrp_instance A B {\n no_such 1\n}\nvrrp_sync_group {\n group {\n  VI_1\n }\n}\ntrack_group {\n bogus\n}\n${VI('')}`,
    );
    // (track_group itself is not implemented: its own warning, apart.)
    expect(r.diagnostics.filter((d) => d.rule !== 'keyword-not-implemented').map((d) => `${d.line}:${d.rule} ${d.message}`)).toEqual([
      '1:name-missing vrrp_instance must have a name',
      '4:name-missing vrrp_instance must have a name',
      '7:name-missing vrrp_sync_group must have a name - skipping',
      '12:name-missing track_group must have a name - skipping',
    ]);
    expect(r.config.vrrpInstances.map((i) => i.name)).toEqual(['VI_1']);
    expect(r.config.syncGroups).toEqual([]);
  });

  it('reports a unicast keyword without unicast peers (not mcast_src_ip, nor with unicast_fault_no_peer)', () => {
    expect(rules(VI(' unicast_src_ip 10.0.0.1'))).toEqual(['4:unicast-no-peers']);
    expect(rules(VI(' check_unicast_src'))).toEqual(['4:unicast-no-peers']);
    expect(rules(VI(' unicast_peer {\n }'))).toEqual(['4:unicast-no-peers']);
    expect(rules(VI(' mcast_src_ip 10.0.0.1'))).toEqual([]);
    expect(rules(VI(' unicast_src_ip 10.0.0.1\n unicast_fault_no_peer'))).toEqual([]);
    expect(rules(VI(' unicast_src_ip 10.0.0.1\n unicast_peer {\n  10.0.0.2\n }'))).toEqual([]);
  });

  it("sets aside a sync group member's and an address owner's weighted trackers, as keepalived does", () => {
    const trackers = ' track_interface {\n  eth1 weight 5\n  eth2\n }\n track_script {\n  chk\n  chk0 weight 0\n }';
    const scripts = 'vrrp_script chk {\n script /bin/true\n weight 10\n}\nvrrp_script chk0 {\n script /bin/true\n}\n';
    const group = (extra: string) => `vrrp_sync_group G {\n group {\n  VI_1\n }\n${extra}}\n`;
    const member = load(scripts + group('') + VI(trackers));
    expect(member.diagnostics.filter((d) => d.rule === 'sync-weighted-tracker').map((d) => d.message)).toEqual([
      '(VI_1) ignoring eth1 tracked interface weight due to SYNC group',
      '(VI_1) ignoring tracked script chk with weights due to SYNC group',
    ]);
    // The member still tracks eth1, at weight 0 (a FAULT when it goes down); chk is dropped.
    const inst = member.config.vrrpInstances[0];
    expect(inst.trackInterface.map((t) => [t.name, t.weight])).toEqual([
      ['eth1', 0],
      ['eth2', undefined],
    ]);
    expect(inst.trackScript.map((t) => t.name)).toEqual(['chk0']);
    // With sync_group_tracking_weight the weights apply.
    expect(load(scripts + group(' sync_group_tracking_weight\n') + VI(trackers)).diagnostics.filter((d) => d.rule.endsWith('weighted-tracker'))).toEqual([]);
    // The address owner stops tracking the weighted interface too.
    const owner = load(scripts + VI(' priority 255\n' + trackers));
    expect(owner.diagnostics.filter((d) => d.rule === 'owner-weighted-tracker').map((d) => d.message)).toEqual([
      '(VI_1) ignoring eth1 tracked interface due to address owner',
      '(VI_1) ignoring tracked script chk with weights due to address_owner',
    ]);
    expect(owner.config.vrrpInstances[0].trackInterface.map((t) => t.name)).toEqual(['eth2']);
  });

  it('says nothing of the instance checks after an instance keepalived cannot complete (no VIP under vrrp_strict)', () => {
    const a = 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n authentication {\n  auth_type PASS\n  auth_pass x\n }\n}\n';
    const b = 'vrrp_instance B {\n state MASTER\n interface eth0\n virtual_router_id 2\n priority 100\n nopreempt\n virtual_ipaddress {\n  10.0.0.2\n }\n}\n';
    const c = b.replace('B {\n state MASTER\n', 'C {\n').replace('nopreempt\n', '').replace('10.0.0.2', '10.0.0.3');
    const strict = 'global_defs {\n vrrp_strict\n}\n';
    // keepalived 2.2.7 -t says only this: its VRRP process stops at A.
    expect(rules(strict + a + b + c)).toEqual(['4:vip-none']);
    // Without A, B's and the VRID checks are made.
    // The strict reset to BACKUP comes first, so nopreempt is no longer reported (keepalived 2.2.7).
    expect(rules(strict + b + c)).toEqual(['5:strict-state-owner', '16:vrid-duplicate']);
  });

  it('checks sync group members', () => {
    const r = load(`vrrp_sync_group G {\n group {\n  VI_1\n  VI_9\n }\n}\n${VI('')}`);
    expect(r.diagnostics.map((d) => d.rule)).toEqual(['sync-group-member-missing', 'sync-group-single']);
  });

  it('exits 6 when scripts run without enable_script_security', () => {
    const r = load(`vrrp_script chk {\n script "/bin/true"\n}\n${VI(' track_script {\n chk\n }')}`);
    expect(r.diagnostics).toMatchObject([{ rule: 'script-security', exit: 6, line: 2 }]);
  });

  it('reports an address of the other family and drops it', () => {
    const r = load(VI('').replace('192.168.1.100/24 dev eth0 label eth0:vip', '10.0.0.1\n fe80::1'));
    expect(r.diagnostics.map((d) => d.rule)).toEqual(['vip-family']);
    expect(r.config.vrrpInstances[0].virtualIpaddress).toHaveLength(1);
  });

  it("reads a list block without '{' as keepalived does: the lines after it, up to the first '}', are its items", () => {
    // keepalived 2.2.7 -t: extra parameters at 5, the VIP block's lines read as routes (6, 7), the
    // VIP block's '}' ends the routes, and the instance has no VIP.
    expect(rules(VI(' priority 100\n virtual_routes 10.0.0.0/8'))).toEqual(['5:block-expected', '6:route-invalid', '7:route-invalid', '1:vip-none']);
  });

  it("reads a leaf keyword's '{' as keepalived does: ignored, and its '}' closes the instance", () => {
    // keepalived 2.2.7 -t on this text: Unexpected '{' (4), then everything after line 5 is read at
    // the top level: unknown keywords virtual_routes (6), virtual_ipaddress (7, its '{' ignored too),
    // the address (8) and both '}' (9, 10); the instance has no VIP.
    const r = load(VI(' priority 100 {\n }\n virtual_routes 10.0.0.0/8'));
    expect(r.diagnostics.map((d) => `${d.line}:${d.rule}`).sort()).toEqual(
      ['1:vip-none', '4:block-unexpected', '6:unknown-keyword', '7:unknown-keyword', '8:unknown-keyword', '9:unknown-keyword', '10:unknown-keyword'].sort(),
    );
    expect(r.config.vrrpInstances[0].priority).toBe(100);
  });

  it('warns about deprecated spellings and names the replacement', () => {
    const r = load('vrrp_track_file f {\n file /tmp/x\n}\n');
    expect(r.diagnostics).toMatchObject([{ rule: 'deprecated-keyword', severity: 'warning', exit: 0 }]);
    expect(r.diagnostics[0].hint).toBe('write track_file');
    expect(r.config.trackFiles[0]).toMatchObject({ name: 'f', file: '/tmp/x', weight: 1 });
  });
});
