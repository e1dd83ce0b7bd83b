// keepalived versions: which one a config is judged for (`-t`, `lint`: --target-version), and
// the keyword table's `since` (the release that introduced a keyword).

/** keepalived's version the config test judges as by default: the one Debian and Ubuntu LTS ship. */
export const DEFAULT_TARGET_VERSION = '2.2.7';

const VERSION_RE = /^\d+(\.\d+){0,2}$/;

export function isVersion(v: string): boolean {
  return VERSION_RE.test(v);
}

/** Compares dotted versions, missing parts as 0: `2.3` = `2.3.0` < `2.3.3`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
