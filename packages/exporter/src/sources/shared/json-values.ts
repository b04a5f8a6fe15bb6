/** Narrowing helpers for parsed JSON, where every field may be missing or of the wrong type. */

export type JsonObject = Record<string, unknown>;

export function asObject(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A non-empty string, else `undefined`. */
export function asString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A finite number, or a string holding one (Slack writes some dates as strings). */
export function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

export function asStrings(v: unknown): string[] {
  return asArray(v).filter((x): x is string => typeof x === 'string' && x !== '');
}

/** Seconds since the epoch → Date, `undefined` unless positive and finite. */
export function secondsToDate(v: unknown): Date | undefined {
  const n = asNumber(v);
  return n === undefined || n <= 0 ? undefined : new Date(Math.round(n * 1000));
}

/** Milliseconds since the epoch → Date, `undefined` unless positive and finite. */
export function millisToDate(v: unknown): Date | undefined {
  const n = asNumber(v);
  return n === undefined || n <= 0 ? undefined : new Date(n);
}
