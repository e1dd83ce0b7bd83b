// The daemons' command lines in the netns lab, without starting them.
import { describe, expect, it } from 'vitest';
import type { LabNode } from '../../../src/lab/model/scenario.js';
import type { LabConfig } from '../../../src/lab/netns/config.js';
import { KeepalivedLog } from '../../../src/lab/netns/logs.js';
import { daemonArgv, type NodeRt } from '../../../src/lab/netns/processes.js';

function rt(impl: LabNode['impl'], configId?: string): NodeRt {
  const node = { name: 'lb1', impl, configId } as LabNode;
  return {
    node,
    ns: 'ktlab1-n1',
    dir: '/run/lab/lb1',
    conf: {} as LabConfig,
    confFile: '/run/lab/lb1/keepalived.conf',
    states: new Map(),
    prio: new Map(),
    log: new KeepalivedLog(),
    ifaces: new Map(),
  };
}

describe('daemonArgv', () => {
  it('keepalived: foreground, console log, its own pid files, -P only for VRRP only', () => {
    const pids = ['-p', '/run/lab/lb1/keepalived.pid', '-r', '/run/lab/lb1/vrrp.pid', '-c', '/run/lab/lb1/checkers.pid'];
    expect(daemonArgv(rt('keepalived'), {}, false)).toEqual(['keepalived', '-n', '-l', '-D', '-f', '/run/lab/lb1/keepalived.conf', ...pids]);
    expect(daemonArgv(rt('keepalived', 'lb1'), { keepalivedBin: '/usr/sbin/keepalived' }, true)).toEqual([
      '/usr/sbin/keepalived',
      '-n',
      '-l',
      '-D',
      '-f',
      '/run/lab/lb1/keepalived.conf',
      ...pids,
      '-i',
      'lb1',
      '-P',
    ]);
  });

  it('ours: the bundle under this Node, the same options', () => {
    expect(daemonArgv(rt('keepalived-ts', 'lb1'), { daemonBin: '/x/dist/keepalived-ts.mjs' }, false)).toEqual([
      process.execPath,
      '/x/dist/keepalived-ts.mjs',
      '-f',
      '/run/lab/lb1/keepalived.conf',
      '-n',
      '-l',
      '-D',
      '-p',
      '/run/lab/lb1/keepalived.pid',
      '-r',
      '/run/lab/lb1/vrrp.pid',
      '-i',
      'lb1',
    ]);
  });
});
