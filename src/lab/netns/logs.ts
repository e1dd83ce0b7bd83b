// What the netns lab reads from its processes, as functions of the lines alone (no I/O, no clock
// but the lines' own stamps): our daemon's pino JSON lines, the real keepalived's console lines,
// the lab's notify.log (scripts.ts writes it) and the lab client's line per request. The lab
// (index.ts) turns what they find into the run's records.
import type { LabState } from '../model/result.js';

/** A line of output and when the lab read it (performance.now() ms), as host.ts's OutputLine. */
export interface Line {
  text: string;
  mono: number;
}

/** What a daemon's log line tells: a state change, an effective priority, a real server's health. */
export type LogEvent =
  | { kind: 'state'; instance: string; state: LabState; priority?: number; reason: string }
  | { kind: 'priority'; instance: string; priority: number }
  | { kind: 'server'; address: string; port: number; inService: boolean; reason: string };

/** Both daemons log "(VI_1) Changing effective priority from 150 to 90" (tracker weights). */
export function priorityChange(text: string): Extract<LogEvent, { kind: 'priority' }> | undefined {
  const m = /\(([^)\s]+)\) Changing effective priority from \d+ to (\d+)/.exec(text);
  return m ? { kind: 'priority', instance: m[1], priority: Number(m[2]) } : undefined;
}

/** Both checkers: "Adding service [ADDR]:(tcp:)PORT to VS", "Removing service ... from VS". */
export function serverChange(text: string): Extract<LogEvent, { kind: 'server' }> | undefined {
  const m = /(Adding|Removing) service \[([^\]]+)\]:(?:tcp:|udp:)?(\d+) (?:to|from) VS(?:.*\((.*)\))?/.exec(text);
  return m ? { kind: 'server', address: m[2], port: Number(m[3]), inService: m[1] === 'Adding', reason: m[4] ?? text.trim() } : undefined;
}

/** The states a daemon logs entering. Neither logs one at its stop: the lab records STOPPED
 * when the process exits, timed at its priority 0 when it sent one (wire.ts stopsFromWire). */
const logged = (s: string): s is LabState => s === 'BACKUP' || s === 'MASTER' || s === 'FAULT';

/** Our daemon: pino JSON lines; transitions carry vrrp, state, priority and reason. */
export function readOurLine(text: string): LogEvent[] {
  let j: { vrrp?: string; state?: string; priority?: number; reason?: string; msg?: string };
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    return [];
  }
  const out: LogEvent[] = [];
  if (j.vrrp && j.state && logged(j.state))
    out.push({ kind: 'state', instance: j.vrrp, state: j.state, priority: j.priority, reason: j.reason ?? j.msg ?? '' });
  if (j.msg) {
    const p = priorityChange(j.msg);
    if (p) out.push(p);
    const s = serverChange(j.msg);
    if (s) out.push(s);
  }
  return out;
}

/** When our daemon wrote the line: pino's `time`, Date.now() in ms (keepalived's console stamps
 * are whole seconds, so its lines are timed when the lab reads them). */
export function ourLineEpochMs(text: string): number | undefined {
  const m = /^\{"level":\d+,"time":(\d+),/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * keepalived: "(VI_1) Entering MASTER STATE" and friends on its console log. keepalived gives no
 * reason for a change; its last line about the instance, or a more recent one about anything
 * ("Netlink reports eth0 down"), usually is one. So one reader per node remembers those lines,
 * across restarts of the daemon.
 */
export class KeepalivedLog {
  /** The last line about each instance since its last transition ('' for any other line, used
   * when recent), as the reason of the next one. */
  private readonly lastLine = new Map<string, { text: string; mono: number }>();

  /** `stateOf`: the instance's state as recorded so far ('INIT' before the first). */
  read(line: Line, stateOf: (instance: string) => LabState): LogEvent[] {
    const text = line.text.replace(/^\w{3} \w{3} [ \d]\d [\d:]{8} \d{4}: /, '');
    const entering = /^\(([^)\s]+)\) Entering (\w+) STATE/.exec(text);
    if (entering) {
      const inst = entering[1];
      const own = this.lastLine.get(inst);
      const general = this.lastLine.get('');
      const recent = general && line.mono - general.mono < 1000 && (!own || general.mono > own.mono) ? general : own;
      const reason = stateOf(inst) === 'INIT' ? 'start-up' : (recent?.text ?? '');
      this.lastLine.delete(inst);
      return logged(entering[2]) ? [{ kind: 'state', instance: inst, state: entering[2], reason }] : [];
    }
    const out: LogEvent[] = [];
    // keepalived logs priorities only when they change; until then the config priority.
    const p = priorityChange(text);
    if (p) out.push(p);
    const about = /^\(([^)\s]+)\) (.*)$/.exec(text);
    this.lastLine.set(about?.[1] ?? '', { text: about?.[2] ?? text, mono: line.mono });
    const s = serverChange(text);
    if (s) out.push(s);
    return out;
  }
}

/** A notify.log line, "UPTIME TYPE NAME STATE PRIORITY"; uptimeMs is /proc/uptime's reading in ms. */
export interface NotifyLine {
  uptimeMs: number;
  kind: 'INSTANCE' | 'GROUP';
  name: string;
  state: string;
  priority: number;
}

/** The lines of a notify.log that have that shape, in file order. */
export function parseNotifyLog(text: string): NotifyLine[] {
  const out: NotifyLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+(?:\.\d+)?) (INSTANCE|GROUP) (\S+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ uptimeMs: Number(m[1]) * 1000, kind: m[2] as 'INSTANCE' | 'GROUP', name: m[3], state: m[4], priority: Number(m[5]) });
  }
  return out;
}

/** The lab client's line per request (scripts.ts): how long it took and what came back. */
export interface RequestLine {
  ms: number;
  ok: boolean;
  body?: string;
  error?: string;
}

export function parseRequestLine(text: string): RequestLine | undefined {
  try {
    return JSON.parse(text) as RequestLine;
  } catch {
    return undefined;
  }
}
