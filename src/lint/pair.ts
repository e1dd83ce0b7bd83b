// Pair lint: two directors' configs must agree on every VRRP instance they share, and each
// tracked fault on the master must really move mastership. The seed documents' classic mistake
// is a track_script weight smaller than the priority gap: the check fails and nothing happens.
import type { Diagnostic, Span } from '../config/diagnostics.js';
import type { Config, ResolvedVirtualServer, ResolvedVrrpInstance, VrrpInstance } from '../config/model/index.js';
import type { RuleId } from '../config/rules.js';
import { effectivePriority, type Effective, type Tracker } from '../vrrp/priority.js';

export interface FaultOutcome {
  instance: string;
  vrid: number;
  /** Which node's fault: 'A' or 'B' (the one that is MASTER when all is well). */
  node: 'A' | 'B';
  fault: string;
  /** Each director's effective priority before and after the fault, a number, or 'FAULT'. */
  before: { A: Shown; B: Shown };
  after: { A: Shown; B: Shown };
  failover: boolean | 'tie';
  explanation: string;
}

export interface PairReport {
  diagnostics: Diagnostic[];
  outcomes: FaultOutcome[];
}

/** An effective priority as reports give it: the number, or 'FAULT'. */
export type Shown = number | 'FAULT';
const shown = (e: Effective): Shown => (e.fault ? 'FAULT' : e.priority);
const show = (e: Effective): string => String(shown(e));

function diag(at: Span, severity: 'error' | 'warning', rule: RuleId, message: string, hint?: string): Diagnostic {
  return { file: at.file, line: at.line, col: at.col, severity, rule, message, hint, exit: 0 };
}

const keyOf = (i: ResolvedVrrpInstance): string => `${i.virtualRouterId}/${i.family}`;
const vips = (i: VrrpInstance): string =>
  i.virtualIpaddress
    .map((v) => `${v.address}/${v.prefix}`)
    .sort()
    .join(' ');

/** Who wins an election between two effective priorities; ties go to the higher address. */
function winner(a: Effective, b: Effective): 'A' | 'B' | 'tie' | 'none' {
  if (a.fault && b.fault) return 'none';
  if (a.fault) return 'B';
  if (b.fault) return 'A';
  return a.priority > b.priority ? 'A' : b.priority > a.priority ? 'B' : 'tie';
}

export function lintPair(a: Config, b: Config): PairReport {
  const out: Diagnostic[] = [];
  const outcomes: FaultOutcome[] = [];
  const bByKey = new Map(b.resolved.vrrpInstances.filter((i) => i.virtualRouterId !== 0).map((i) => [keyOf(i), i]));
  const aKeys = new Set<string>();

  for (const ia of a.resolved.vrrpInstances) {
    if (ia.virtualRouterId === 0) continue;
    aKeys.add(keyOf(ia));
    const ib = bByKey.get(keyOf(ia));
    if (!ib) {
      out.push(
        diag(
          ia.span,
          'error',
          'pair-vrid-missing',
          `vrrp_instance ${ia.name} (VRID ${ia.virtualRouterId}) has no counterpart on the other director`,
          'both directors need an instance with the same virtual_router_id',
        ),
      );
      continue;
    }
    compareInstances(ia, ib, out);
    analyseFailover(ia, ib, out, outcomes);
  }
  for (const ib of b.resolved.vrrpInstances) {
    if (ib.virtualRouterId !== 0 && !aKeys.has(keyOf(ib))) {
      out.push(
        diag(
          ib.span,
          'error',
          'pair-vrid-missing',
          `vrrp_instance ${ib.name} (VRID ${ib.virtualRouterId}) has no counterpart on the other director`,
          'both directors need an instance with the same virtual_router_id',
        ),
      );
    }
  }
  compareVirtualServers(a, b, out);
  return { diagnostics: out, outcomes };
}

/** How people name a virtual service: [ip]:proto:port, fwmark N or group NAME. */
export function vsKey(v: ResolvedVirtualServer): string {
  const proto = v.protocol.toLowerCase();
  if (v.kind === 'fwmark') return `fwmark ${v.fwmark}`;
  if (v.kind === 'group') return `group ${v.group}:${proto}`;
  return `[${v.address}]:${proto}:${v.port}`;
}

function compareVirtualServers(a: Config, b: Config, out: Diagnostic[]): void {
  // Compared as written, except the real servers' weights: as they run.
  const bs = new Map(b.resolved.virtualServers.map((v) => [vsKey(v), v]));
  const as = new Map(a.resolved.virtualServers.map((v) => [vsKey(v), v]));
  for (const [k, ra] of as) {
    const va = ra.written;
    const rb = bs.get(k);
    if (!rb) {
      out.push(
        diag(
          va.span,
          'error',
          'pair-vs-missing',
          `virtual_server ${k} has no counterpart on the other director; after a failover it stops being served`,
          'configure the same virtual servers on both directors',
        ),
      );
      continue;
    }
    const vb = rb.written;
    const same = (what: string, x: unknown, y: unknown): void => {
      if (JSON.stringify(x) !== JSON.stringify(y))
        out.push(
          diag(
            vb.span,
            'warning',
            'pair-vs-mismatch',
            `virtual_server ${k}: ${what} differs (${JSON.stringify(x) ?? 'unset'} vs ${JSON.stringify(y) ?? 'unset'}); traffic is balanced differently after a failover`,
          ),
        );
    };
    same('lvs_sched', va.lvsSched, vb.lvsSched);
    same('lvs_method', va.lvsMethod?.method, vb.lvsMethod?.method);
    same('persistence_timeout', va.persistenceTimeout, vb.persistenceTimeout);
    const rs = (v: ResolvedVirtualServer): string[] => v.realServers.map((r) => `${r.address}:${r.written.port ?? 0} weight ${r.weight}`).sort();
    same('the real server list', rs(ra), rs(rb));
  }
  for (const [k, rb] of bs) {
    if (!as.has(k))
      out.push(
        diag(
          rb.span,
          'error',
          'pair-vs-missing',
          `virtual_server ${k} has no counterpart on the other director; after a failover it stops being served`,
          'configure the same virtual servers on both directors',
        ),
      );
  }
}

function compareInstances(ia: VrrpInstance, ib: VrrpInstance, out: Diagnostic[]): void {
  const at = (i: VrrpInstance, k: string): Span => i.spans[k] ?? i.span;
  const pair = `${ia.name}/${ib.name} (VRID ${ia.virtualRouterId})`;
  if (vips(ia) !== vips(ib)) {
    out.push(
      diag(
        at(ib, 'virtualIpaddress'),
        'error',
        'pair-vip-mismatch',
        `${pair}: virtual addresses differ: [${vips(ia)}] vs [${vips(ib)}]`,
        "each ignores the other's adverts (keepalived checks the address list), so both become MASTER: list the same addresses on both",
      ),
    );
  }
  const auth = (i: VrrpInstance): string => (i.authentication ? `${i.authentication.authType ?? 'none'}:${i.authentication.authPass ?? ''}` : 'none');
  if (auth(ia) !== auth(ib)) {
    out.push(
      diag(
        ib.authentication?.span ?? ib.span,
        'error',
        'pair-auth-mismatch',
        `${pair}: authentication differs, so each side drops the other's adverts and both become MASTER (split brain)`,
        'use the same auth_type and auth_pass on both directors',
      ),
    );
  }
  if (ia.advertInt !== ib.advertInt) {
    out.push(
      diag(
        at(ib, 'advertInt'),
        ia.version === 2 ? 'error' : 'warning',
        'pair-advert-int-mismatch',
        `${pair}: advert_int ${ia.advertInt}s vs ${ib.advertInt}s${ia.version === 2 ? ': VRRPv2 drops adverts with another interval, so both become MASTER' : ''}`,
        'use the same advert_int on both directors',
      ),
    );
  }
  if (ia.version !== ib.version) {
    out.push(
      diag(
        at(ib, 'version'),
        'error',
        'pair-version-mismatch',
        `${pair}: VRRP version ${ia.version} vs ${ib.version}; each side drops the other's adverts`,
        'set the same version (or vrrp_version) on both',
      ),
    );
  }
  if (ia.priority === ib.priority) {
    out.push(
      diag(
        at(ib, 'priority'),
        'warning',
        'pair-priority-equal',
        `${pair}: both directors have priority ${ia.priority}; the higher interface address wins every election`,
        'give the intended master a higher priority',
      ),
    );
  }
  for (const [x, y] of [
    [ia, ib],
    [ib, ia],
  ] as const) {
    if (x.unicastPeer.length && x.unicastSrcIp === undefined) continue;
    if (x.unicastPeer.length && y.unicastSrcIp && !x.unicastPeer.some((p) => p.address === y.unicastSrcIp)) {
      out.push(
        diag(
          at(x, 'unicastPeer'),
          'error',
          'pair-unicast-peer',
          `${x.name}: unicast_peer does not list the other director's unicast_src_ip ${y.unicastSrcIp}`,
          `add ${y.unicastSrcIp} to unicast_peer`,
        ),
      );
    }
    if (!!x.unicastPeer.length !== !!y.unicastPeer.length) {
      out.push(
        diag(
          at(x, 'unicastPeer'),
          'error',
          'pair-unicast-mismatch',
          `${pair}: one director uses unicast_peer and the other multicast; they will not hear each other`,
          'configure unicast_peer on both, or on neither',
        ),
      );
      break;
    }
  }
}

function analyseFailover(ia: ResolvedVrrpInstance, ib: ResolvedVrrpInstance, out: Diagnostic[], outcomes: FaultOutcome[]): void {
  const ta = ia.tracks;
  const tb = ib.tracks;
  const none = new Set<Tracker>();
  const a0 = effectivePriority(ia, ta, none);
  const b0 = effectivePriority(ib, tb, none);
  const w0 = winner(a0, b0);
  if (w0 === 'none' || w0 === 'tie') return;
  const [master, mCfgTrackers, mInst, other] = w0 === 'A' ? (['A', ta, ia, b0] as const) : (['B', tb, ib, a0] as const);
  for (const t of mCfgTrackers) {
    const m1 = effectivePriority(mInst, mCfgTrackers, new Set([t]));
    const after = master === 'A' ? { A: shown(m1), B: shown(other) } : { A: shown(other), B: shown(m1) };
    const w1 = master === 'A' ? winner(m1, other) : winner(other, m1);
    const failover = w1 === 'tie' ? 'tie' : w1 !== master;
    const fault = `${t.kind} ${t.name} ${t.kind === 'interface' ? 'down' : 'fails'} on ${master}${t.viaGroup ? ` (sync group ${t.viaGroup})` : ''}`;
    let explanation: string;
    if (m1.fault) explanation = `${master} goes FAULT (weight 0), the other director takes over`;
    else if (t.ignoredWeight) explanation = `weight ${t.weight} is ignored (${t.ignoredWeight}): nothing happens`;
    else if (t.kind === 'file') explanation = 'the change depends on the value written to the file';
    else if (failover === true) explanation = `priority ${show(master === 'A' ? a0 : b0)} → ${show(m1)} falls below ${show(other)}: failover`;
    else if (failover === 'tie') explanation = `priority ${show(m1)} equals the other's: the higher interface address wins`;
    else {
      const gap = (master === 'A' ? (a0 as { priority: number }).priority : (b0 as { priority: number }).priority) - (other as { priority: number }).priority;
      explanation = `priority ${show(master === 'A' ? a0 : b0)} → ${show(m1)} stays above ${show(other)}: no failover`;
      const at = t.at;
      if (t.weight !== 0) {
        out.push(
          diag(
            at,
            'warning',
            'weight-too-small',
            `${mInst.name}: when ${t.kind} ${t.name} fails, priority goes ${show(master === 'A' ? a0 : b0)} → ${show(m1)}, still above the other director's ${show(other)}; no failover happens`,
            `|weight| must be larger than the priority gap (${gap}): for example weight ${t.weight < 0 ? '-' : ''}${gap + 1}`,
          ),
        );
      }
    }
    outcomes.push({
      instance: mInst.name,
      vrid: mInst.virtualRouterId,
      node: master,
      fault,
      before: { A: shown(a0), B: shown(b0) },
      after,
      failover,
      explanation,
    });
  }
}
