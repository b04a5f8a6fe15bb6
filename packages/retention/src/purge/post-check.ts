import { compareKeys, type Store } from '@handover/core';

export interface PresenceOptions {
  /**
   * Keys are grouped by their first `groupDepth` segments (`archives/20240301/`) and each
   * group is checked with one listing of that prefix. Default 2: with the archive key scheme
   * that is one retain-until day, which after a purge holds few objects.
   */
  groupDepth?: number;
  /** Groups this small are checked with one HEAD per key instead of a listing. Default 3. */
  headThreshold?: number;
}

export interface PresenceResult {
  /** Keys that still exist. */
  present: Set<string>;
  /** How each key was checked. */
  method: Map<string, 'list' | 'head'>;
}

function groupPrefix(key: string, depth: number): string {
  const segs = key.split('/');
  // Never group by the full key: a key's own "directory" is the deepest useful prefix.
  const take = Math.min(depth, segs.length - 1);
  return take <= 0 ? '' : `${segs.slice(0, take).join('/')}/`;
}

/**
 * Which of `keys` still exist. A listing returns keys in order, so each group's listing
 * stops at the first key past the group's last key: after a purge it reads about one page.
 */
export async function findPresent(store: Store, keys: readonly string[], options: PresenceOptions = {}): Promise<PresenceResult> {
  const depth = options.groupDepth ?? 2;
  const headThreshold = options.headThreshold ?? 3;
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const p = groupPrefix(k, depth);
    let g = groups.get(p);
    if (g === undefined) groups.set(p, (g = []));
    g.push(k);
  }
  const present = new Set<string>();
  const method = new Map<string, 'list' | 'head'>();
  for (const [prefix, group] of groups) {
    if (group.length <= headThreshold) {
      for (const k of group) {
        method.set(k, 'head');
        if ((await store.head(k)) !== undefined) present.add(k);
      }
      continue;
    }
    const wanted = new Set(group);
    let last = group[0] as string;
    for (const k of group) if (compareKeys(k, last) > 0) last = k;
    for (const k of group) method.set(k, 'list');
    for await (const e of store.list(prefix)) {
      if (compareKeys(e.key, last) > 0) break;
      if (wanted.has(e.key)) present.add(e.key);
    }
  }
  return { present, method };
}
