// Copying model records without some of their keys.

/**
 * `o` without `keys`, as `const { a, b, ...rest } = o` gives it. Object rest with excluded keys
 * (and the spread of the result) takes V8's generic copy, several µs for a model record of some
 * thirty fields; a for-in copy is a few times faster, which counts for a config with 10,000 real
 * servers.
 */
export function withoutKeys<T extends object, K extends keyof T>(o: T, keys: ReadonlySet<K>): Omit<T, K> {
  const out: Record<string, unknown> = {};
  for (const k in o) if (!keys.has(k as unknown as K) && Object.hasOwn(o, k)) out[k] = o[k];
  return out as Omit<T, K>;
}

/**
 * `list.filter(keep)`, but `list` itself when every item is kept: a config's lists are nearly
 * always kept whole, and a new array per record and list is most of what filtering them costs.
 */
export function kept<T>(list: T[], keep: (item: T) => boolean): T[] {
  for (let i = 0; i < list.length; i++) {
    if (keep(list[i])) continue;
    const out = list.slice(0, i);
    for (let j = i + 1; j < list.length; j++) if (keep(list[j])) out.push(list[j]);
    return out;
  }
  return list;
}

/** `f` with each argument's answer kept: for one pass over a config that asks the same few things thousands of times. */
export function memo<K, V>(f: (k: K) => V): (k: K) => V {
  const seen = new Map<K, V>();
  return (k) => {
    if (seen.has(k)) return seen.get(k) as V;
    const v = f(k);
    seen.set(k, v);
    return v;
  };
}
