// One line per fault, as people read it in timelines and verdicts ("kill lb1",
// "partition lan: [lb1] | [lb2]"); both backends record faults with these words.
import type { Fault } from './scenario.js';
import { formatTime } from './times.js';

const pct = (p: number): string => `${+(p * 100).toFixed(2)}%`;

export function faultText(f: Fault): string {
  switch (f.kind) {
    case 'kill':
    case 'stop':
    case 'start':
      return `${f.kind} ${f.node}`;
    case 'partition':
      return `partition ${f.segment}: ${f.groups.map((g) => `[${g.join(', ')}]`).join(' | ')}`;
    case 'heal':
      return `heal ${f.segment}`;
    case 'link': {
      const parts = [
        f.loss !== undefined && `loss ${pct(f.loss)}`,
        f.delay !== undefined && `delay ${formatTime(f.delay)}`,
        f.duplicate !== undefined && `duplicate ${pct(f.duplicate)}`,
      ].filter(Boolean);
      return `link ${f.node} on ${f.segment}: ${parts.join(', ') || 'clear'}`;
    }
    case 'script':
      return `script ${f.script} on ${f.node} ${f.ok ? 'succeeds' : 'fails'}`;
    case 'file':
      return `file ${f.file} on ${f.node} = ${f.value}`;
    case 'interface':
      return `interface ${f.interface} on ${f.node} ${f.up ? 'up' : 'down'}`;
    case 'server':
      return `real server ${f.server} ${f.up ? 'up' : 'down'}`;
    case 'process':
      return `process ${f.name} on ${f.node} ${f.state ?? `×${f.count}`}`;
    case 'reload':
      return `reload ${f.node} (${f.config.file})`;
  }
}
