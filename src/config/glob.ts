// glob(3) as keepalived calls it (GLOB_BRACE, no GLOB_PERIOD): `*`, `?`, `[...]` per path segment,
// csh-style `{a,b}` alternatives, no `**`, and a leading `.` matched only explicitly. Libraries such
// as fast-glob add `**` and other extensions, which would make us accept includes keepalived rejects.
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** Expand `{a,b}` alternatives (nested allowed), left to right like csh. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const body = pattern.slice(open + 1, i);
      const alts = splitTopLevel(body);
      if (alts.length < 2) continue; // `{x}` is literal in glob(3) unless it has a comma
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      return alts.flatMap((alt) => expandBraces(head + alt + tail));
    }
  }
  return [pattern];
}

function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}

const hasMagic = (s: string): boolean => /[*?[]/.test(s);

function segmentRegex(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = seg.slice(i + 1, end);
      if (cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += '[' + cls.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) re += '\\' + seg[++i];
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Matching paths, sorted per directory as glob(3) sorts them; relative patterns resolve against `base`. */
export function globSync(pattern: string, base: string): string[] {
  const results: string[] = [];
  for (const alt of expandBraces(pattern)) {
    const abs = isAbsolute(alt) ? alt : join(base, alt);
    const segments = abs.split('/').filter((s, i) => s !== '' || i === 0);
    let paths = [segments[0] === '' ? '/' : segments[0]];
    for (const seg of segments.slice(1)) {
      const next: string[] = [];
      for (const dir of paths) {
        if (!hasMagic(seg)) {
          const p = join(dir, seg.replace(/\\(.)/g, '$1'));
          if (exists(p)) next.push(p);
          continue;
        }
        let names: string[];
        try {
          names = readdirSync(dir);
        } catch {
          continue;
        }
        const re = segmentRegex(seg);
        for (const name of names.sort()) {
          if (name.startsWith('.') && !seg.startsWith('.')) continue;
          if (re.test(name)) next.push(join(dir, name));
        }
      }
      paths = next;
    }
    for (const p of paths) if (!results.includes(p)) results.push(p);
  }
  return results;
}
