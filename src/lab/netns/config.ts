// A node's keepalived.conf as the netns lab runs it: the configuration the scenario names, with
// the parts that point at the host it was written for replaced by lab-owned equivalents, so that
// faults can drive them and the lab can watch them:
// - each vrrp_script's `script` becomes `/usr/bin/test ! -e DIR/NAME.fail` (interval, weight,
//   rise, fall untouched): the script fault creates or removes that file;
// - each track_file's `file` becomes DIR/NAME.track, which the file fault writes;
// - each vrrp_instance and vrrp_sync_group gets the lab's `notify` script (replacing its own),
//   which appends what keepalived passes it to DIR/notify.log.
// Edits are made on the text at the spans the parser reports, so everything else (comments,
// @conditionals, layout) stays as written and both daemons read the same file.
import { loadConfigText } from '../../config/index.js';
import type { Config } from '../../config/index.js';
import type { Span } from '../../config/diagnostics.js';

export interface LabConfig {
  text: string;
  config: Config;
  /** vrrp_script name -> the file whose existence makes it fail. */
  scripts: Map<string, string>;
  /** track_file name -> the file the lab writes, and its original path. */
  trackFiles: Map<string, { path: string; original?: string; init: boolean }>;
  instances: { name: string; vrid: number; interface: string; priority: number; vips: string[] }[];
}

interface Edit {
  /** Offset into the text. */
  start: number;
  end: number;
  text: string;
}

/** A keepalived string argument: quoted, or a bare word (no shell; the daemons split it). */
const quote = (s: string): string => `"${s}"`;

/** Offsets of line starts, to turn parser spans (1-based line and column) into offsets. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/** End offset of the statement whose keyword starts at `at`: the keyword and its arguments up to
 * the end of the line, a brace or a comment. */
function statementEnd(text: string, at: number): number {
  let i = at;
  const eol = (): boolean => i >= text.length || text[i] === '\n';
  while (!eol() && !/\s/.test(text[i])) i++; // the keyword
  let end = i;
  for (;;) {
    while (!eol() && /[ \t\r]/.test(text[i])) i++;
    if (eol() || '{}#!'.includes(text[i])) return end;
    if (text[i] === '"') {
      i++;
      while (!eol() && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (!eol()) i++;
    } else while (!eol() && !/\s/.test(text[i]) && text[i] !== '}') i++;
    end = i;
  }
}

/**
 * Rewrite `text` (from `file`) for node `node`, whose lab files live in `dir`; `notify` is the
 * lab's notify command (the daemon appends TYPE NAME STATE PRIORITY to it). Throws when an edit
 * would fall into an included file (only the main file is rewritten).
 */
export function labConfig(text: string, file: string, opts: { dir: string; notify: string; configId?: string }): LabConfig {
  const { config } = loadConfigText(text, file, { configId: opts.configId });
  const starts = lineStarts(text);
  const offset = (span: Span, what: string): number => {
    if (span.file !== file)
      throw new Error(`${span.file}:${span.line}: ${what} is in an included file; the netns lab rewrites only the main configuration ${file}`);
    return starts[span.line - 1] + span.col - 1;
  };
  const edits: Edit[] = [];
  const replace = (span: Span, what: string, statement: string): void => {
    const start = offset(span, what);
    edits.push({ start, end: statementEnd(text, start), text: statement });
  };
  /** Insert a statement just inside the block that starts at `span`. */
  const insert = (span: Span, what: string, statement: string): void => {
    const brace = text.indexOf('{', offset(span, what));
    if (brace < 0) throw new Error(`${file}:${span.line}: cannot find the block of ${what}`);
    edits.push({ start: brace + 1, end: brace + 1, text: `\n    ${statement}\n` });
  };

  const scripts = new Map<string, string>();
  for (const s of config.vrrpScripts) {
    const fail = `${opts.dir}/${s.name}.fail`;
    scripts.set(s.name, fail);
    const statement = `script ${quote(`/usr/bin/test ! -e ${fail}`)}`;
    if (s.spans.script) replace(s.spans.script, `vrrp_script ${s.name}`, statement);
    else insert(s.span, `vrrp_script ${s.name}`, statement);
  }
  const trackFiles = new Map<string, { path: string; original?: string; init: boolean }>();
  for (const t of config.trackFiles) {
    const path = `${opts.dir}/${t.name}.track`;
    trackFiles.set(t.name, { path, original: t.file, init: t.initFile !== undefined });
    const statement = `file ${quote(path)}`;
    if (t.spans.file) replace(t.spans.file, `track_file ${t.name}`, statement);
    else insert(t.span, `track_file ${t.name}`, statement);
  }
  for (const b of [
    ...config.vrrpInstances.map((i) => ({ b: i, what: `vrrp_instance ${i.name}` })),
    ...config.syncGroups.map((g) => ({ b: g, what: `vrrp_sync_group ${g.name}` })),
  ]) {
    const statement = `notify ${quote(opts.notify)}`;
    if (b.b.spans.notify) replace(b.b.spans.notify, b.what, statement);
    else insert(b.b.span, b.what, statement);
  }

  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return {
    text: out,
    config,
    scripts,
    trackFiles,
    instances: config.resolved.vrrpInstances.map((i) => ({
      name: i.name,
      vrid: i.virtualRouterId,
      interface: i.interface,
      priority: i.priority,
      vips: i.virtualIpaddress.filter((a) => a.family === 4).map((a) => a.address),
    })),
  };
}
