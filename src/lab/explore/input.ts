// What `lab --explore` is given: a scenario (its nodes, wiring, real servers and clients are the
// context; its timeline and expectations are not used), or the directors' keepalived.conf files,
// as `lint --pair` takes them. From configs, the scenario is derived as a person would write it:
// one node per file (named after the file), the wiring from the configs, a real server for
// every real_server and sorry_server, and a client for every virtual server on a VIP.
import { basename, extname, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../config/index.js';
import { loadScenario, loadScenarioText, type ScenarioLoad } from '../load/index.js';

const NODE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function exploreInput(paths: readonly string[]): ScenarioLoad {
  if (paths.length === 1) return loadScenario(paths[0]);
  return loadScenarioText(pairYaml(paths), `${paths.map((p) => basename(p)).join('+')}.yaml`);
}

/** The scenario text for a set of configs (pure apart from reading them). */
export function pairYaml(paths: readonly string[]): string {
  const names = paths.map((p) => basename(p, extname(p)));
  const usable = new Set(names).size === names.length && names.every((n) => NODE_NAME.test(n) && n !== 'none');
  const nodeNames = usable ? names : paths.map((_, i) => `node${i + 1}`);
  const nodes = Object.fromEntries(paths.map((p, i) => [nodeNames[i], resolve(p)]));
  const servers = new Map<string, { address: string; port: number; sorry: boolean }>();
  const targets = new Map<string, { address: string; port: number }>();
  for (const p of paths) {
    const { config } = loadConfig(p);
    const vips = new Set(config.resolved.vrrpInstances.flatMap((i) => i.virtualIpaddress.map((v) => v.address)));
    for (const vs of config.resolved.virtualServers) {
      const add = (address: string, port: number, sorry: boolean): void => {
        if (!servers.has(`${address}:${port}`)) servers.set(`${address}:${port}`, { address, port, sorry });
      };
      for (const rs of vs.realServers) add(rs.address, rs.port, false);
      if (vs.sorryServer) add(vs.sorryServer.address, vs.sorryServer.port, true);
      if (vs.kind === 'address' && vips.has(vs.address)) targets.set(`${vs.address}:${vs.port}`, { address: vs.address, port: vs.port });
    }
  }
  const hostPort = (a: string, port: number): string => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  const doc: Record<string, unknown> = { name: paths.map((p) => basename(p)).join(' + '), nodes };
  let rs = 0;
  let sorry = 0;
  if (servers.size)
    doc['real-servers'] = Object.fromEntries([...servers.values()].map((s) => [s.sorry ? `sorry${++sorry}` : `rs${++rs}`, hostPort(s.address, s.port)]));
  if (targets.size)
    doc.clients = Object.fromEntries([...targets.values()].map((t, i) => [`client${i + 1}`, { target: hostPort(t.address, t.port), rate: 10 }]));
  return stringify(doc);
}
