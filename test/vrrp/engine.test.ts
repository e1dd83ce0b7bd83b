// Two directors' real keepalived.conf files driving the engine on a simulated segment.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { buildSimLab } from '../../src/lab/sim/node.js';
import { runnerConfig } from '../../src/vrrp/from-config.js';

const S = 1_000_000;
const conf = (prio: number, extra = '') => `
global_defs {
  enable_script_security
  script_user root
}
vrrp_script chk_nginx {
  script "/bin/true"
  weight -30
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority ${prio}
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  virtual_ipaddress {
    192.168.1.100/24
  }
  track_script {
    chk_nginx
  }
${extra}
}
`;

function pair(a: string, b: string) {
  const log: string[] = [];
  const config = (name: string, text: string) => {
    const { config, diagnostics } = loadConfigText(text, `${name}.conf`, { configId: name });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return { name, config };
  };
  const lab = buildSimLab({
    delayUs: 50,
    segments: [
      {
        name: 'lan',
        members: [
          { node: 'a', interface: 'eth0', address: '192.168.1.1' },
          { node: 'b', interface: 'eth0', address: '192.168.1.2' },
        ],
      },
    ],
    nodes: [config('a', a), config('b', b)],
    observe: (name) => ({ transition: (i, from, to, prio) => log.push(`${(lab.clock.now() / S).toFixed(3)} ${name} ${i.name} ${from}->${to} ${prio}`) }),
  });
  const node = (name: string) => {
    const n = lab.nodes.get(name)!;
    n.start();
    return { engine: n.engine!, vips: n.vips, node: n };
  };
  return { clock: lab.clock, A: node('a'), B: node('b'), log };
}

describe('VRRP engine from keepalived.conf on a simulated segment', () => {
  it('elects, fails over on a tracked script with enough weight, and fails back', () => {
    const { clock, A, B, log } = pair(conf(100), conf(90));
    clock.advance(5 * S);
    expect([...A.vips, ...B.vips]).toEqual(['192.168.1.100']);
    expect(A.vips.size).toBe(1);
    A.engine.setTracked('script', 'chk_nginx', false);
    clock.advance(5 * S);
    expect(A.engine.runner('VI_1')!.state.effectivePriority).toBe(70);
    expect(B.vips.size).toBe(1);
    expect(A.vips.size).toBe(0);
    A.engine.setTracked('script', 'chk_nginx', true);
    clock.advance(5 * S);
    expect(A.vips.size).toBe(1);
    expect(log).toEqual([
      '0.000 a VI_1 INIT->BACKUP 100',
      '0.000 b VI_1 INIT->BACKUP 90',
      '3.609 a VI_1 BACKUP->MASTER 100',
      // A's adverts at 70 are lower than B's 90: B's down timer runs out.
      expect.stringMatching(/^\d+\.\d+ b VI_1 BACKUP->MASTER 90$/),
      expect.stringMatching(/^\d+\.\d+ a VI_1 MASTER->BACKUP 70$/),
      expect.stringMatching(/^\d+\.\d+ a VI_1 BACKUP->MASTER 100$/),
      expect.stringMatching(/^\d+\.\d+ b VI_1 MASTER->BACKUP 90$/),
    ]);
  });

  it('the instance interface going down means FAULT; dont_track_primary keeps it up', () => {
    const { clock, A, B } = pair(conf(100), conf(90));
    clock.advance(5 * S);
    A.engine.setTracked('interface', 'eth0', false);
    clock.advance(S);
    expect(A.engine.runner('VI_1')!.state.state).toBe('FAULT');
    expect(B.vips.size).toBe(1);

    const p = pair(conf(100, '  dont_track_primary'), conf(90));
    p.clock.advance(5 * S);
    p.A.engine.setTracked('interface', 'eth0', false);
    p.clock.advance(S);
    expect(p.A.engine.runner('VI_1')!.state.state).toBe('MASTER');
  });

  it('counts adverts for VRIDs it does not run', () => {
    const { clock, A } = pair(conf(100), conf(90).replace('virtual_router_id 51', 'virtual_router_id 52'));
    clock.advance(5 * S);
    expect(A.engine.unknownVrid['eth0/52']).toBeGreaterThan(0);
  });

  it('graceful stop hands over within the skew time', () => {
    const { clock, A, B, log } = pair(conf(100), conf(90));
    clock.advance(5 * S);
    A.node.stop();
    clock.advance(S);
    expect(log.at(-1)).toBe('5.648 b VI_1 BACKUP->MASTER 90');
    expect(B.vips.size).toBe(1);
  });
});

describe('track_file values', () => {
  const fileConf = (prio: number, weight: string) =>
    conf(prio)
      .replace('vrrp_script chk_nginx {', `track_file tf {\n  file /tmp/none\n  ${weight}\n}\nvrrp_script chk_nginx {`)
      .replace('  track_script {\n    chk_nginx\n  }', '  track_file {\n    tf\n  }');
  it('adds value x weight to the priority, and below -253 means FAULT', () => {
    const { clock, A, B } = pair(fileConf(100, 'weight -10'), conf(90));
    clock.advance(5 * S);
    A.node.setFile('tf', 2);
    clock.advance(S);
    expect(A.engine.runner('VI_1')!.state.effectivePriority).toBe(80);
    expect(A.vips.size).toBe(1);
    A.node.setFile('tf', 3);
    clock.advance(10 * S);
    expect(A.engine.runner('VI_1')!.state.effectivePriority).toBe(70);
    expect(B.vips.size).toBe(1);
    A.node.setFile('tf', 30);
    clock.advance(S);
    expect(A.engine.runner('VI_1')!.state.state).toBe('FAULT');
  });

  it('with weight 0 any non-zero value is a FAULT', () => {
    const { clock, A } = pair(fileConf(100, 'weight 0'), conf(90));
    clock.advance(5 * S);
    A.node.setFile('tf', 1);
    clock.advance(S);
    expect(A.engine.runner('VI_1')!.state.state).toBe('FAULT');
    A.node.setFile('tf', 0);
    clock.advance(S);
    expect(A.engine.runner('VI_1')!.state.state).toBe('BACKUP');
  });
});

describe('check_unicast_src from keepalived.conf', () => {
  const unicast = (global: string, inst: string) => {
    const text = conf(100, `${inst}\n  unicast_peer {\n    192.168.1.2\n    192.168.1.3 min_ttl 250\n  }`).replace(
      'global_defs {',
      `global_defs {\n  ${global}`,
    );
    const { config, diagnostics } = loadConfigText(text, 'u.conf');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return runnerConfig(config.resolved.vrrpInstances[0], '192.168.1.1').unicastSrcPeers;
  };
  const peers = [
    { address: '192.168.1.2', minTtl: 0, maxTtl: 255 },
    { address: '192.168.1.3', minTtl: 250, maxTtl: 255 },
  ];

  it('the instance keyword and global_defs vrrp_check_unicast_src both turn the check on', () => {
    expect(unicast('', 'check_unicast_src')).toEqual(peers);
    expect(unicast('vrrp_check_unicast_src', '')).toEqual(peers);
    expect(unicast('', '')).toBeUndefined();
  });
});
