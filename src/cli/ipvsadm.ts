// `keepalived-ts ipvsadm -Ln [--stats|--rate] [--exact] [--pid=FILE]`: the running daemon's table
// in ipvsadm's format. --pid picks the daemon started with that pid file (-p); the control socket
// is talked to only if root or the caller owns it.
import { connect } from 'node:net';
import { controlPath, untrustedSocket } from '../daemon/runtime.js';
import { renderIpvsadmCounters, renderIpvsadmList, type ListedService } from '../lvs/ipvsadm-list.js';
import { printable } from '../core/text.js';
import { userError } from './errors.js';

const USAGE = 'keepalived-ts ipvsadm -Ln [--stats|--rate] [--exact] [--pid=FILE]';
const KNOWN = /^(?:-[Lln]+|--list|--numeric|--stats|--rate|--exact|--pid=.+)$/;

export async function ipvsadmCommand(argv: string[]): Promise<number> {
  const flags = argv.join(' ');
  if (!/^-L|^-l|--list/.test(flags)) {
    process.stderr.write(`keepalived-ts ipvsadm: only the listing is supported (${USAGE})\n`);
    return 2;
  }
  const odd = argv.find((a) => !KNOWN.test(a));
  if (odd !== undefined) {
    process.stderr.write(userError('ipvsadm', 'unknown option', `'${odd}'`, USAGE));
    return 2;
  }
  const path = controlPath(argv.find((a) => a.startsWith('--pid='))?.slice('--pid='.length));
  const untrusted = untrustedSocket(path);
  if (untrusted) {
    process.stderr.write(
      userError('ipvsadm', 'refusing the control socket', untrusted, "name the daemon's pid file with --pid=FILE, or its socket with KEEPALIVED_TS_CONTROL"),
    );
    return 1;
  }
  const answer = await new Promise<string | Error>((resolve) => {
    const c = connect(path);
    let buf = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write('ipvs\n'));
    c.on('data', (d: string) => (buf += d));
    c.on('end', () => resolve(buf));
    c.on('error', (e) => resolve(e));
  });
  if (answer instanceof Error) {
    process.stderr.write(
      userError('ipvsadm', 'no running keepalived-ts', `${path}: ${answer.message}`, 'start the daemon, or name its pid file with --pid=FILE'),
    );
    return 1;
  }
  let r: { ok: boolean; data?: ListedService[]; error?: string };
  try {
    r = JSON.parse(answer) as typeof r;
  } catch {
    process.stderr.write(userError('ipvsadm', 'not an answer from keepalived-ts', path, 'is this socket the control socket of a keepalived-ts daemon?'));
    return 1;
  }
  if (!r.ok || !r.data) {
    process.stderr.write(`keepalived-ts ipvsadm: ${printable(r.error ?? 'no answer')}\n`);
    return 1;
  }
  const kind = argv.includes('--stats') ? 'stats' : argv.includes('--rate') ? 'rate' : undefined;
  process.stdout.write(kind ? renderIpvsadmCounters(r.data, kind, argv.includes('--exact')) : renderIpvsadmList(r.data));
  return 0;
}
