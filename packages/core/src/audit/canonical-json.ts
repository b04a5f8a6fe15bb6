/**
 * Canonical JSON for hashing: object keys sorted by code point, no whitespace, `undefined`
 * members dropped (as JSON.stringify does). Two writers that build the same record in a
 * different property order must produce the same bytes, or the hash chain would break on
 * an innocent refactor.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError(`canonicalJson: ${value} is not representable in JSON`);
    }
    if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint is not representable in JSON');
    const s = JSON.stringify(value);
    // JSON.stringify(undefined) / functions / symbols give undefined; inside arrays they become null.
    return s === undefined ? 'null' : s;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}
