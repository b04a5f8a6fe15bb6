/**
 * Slack timestamps (`ts`) are strings "seconds.microseconds" and double as message ids.
 * They are kept as strings: as a float, "1705485700.100000" would come back as
 * "1705485700.1" and 16 significant digits do not always survive.
 */

const TS = /^(\d{1,15})(?:\.(\d{1,9}))?$/;

export function isSlackTs(v: unknown): v is string {
  return typeof v === 'string' && TS.test(v);
}

/** The instant of a ts, to the millisecond (the Date's precision). */
export function tsToDate(ts: string): Date | undefined {
  const m = TS.exec(ts);
  if (m === null) return undefined;
  const seconds = Number(m[1]);
  const millis = Number((m[2] ?? '').padEnd(3, '0').slice(0, 3));
  const date = new Date(seconds * 1000 + millis);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Orders two ts strings exactly (no float rounding); invalid ones sort first. */
export function compareTs(a: string, b: string): number {
  const ma = TS.exec(a);
  const mb = TS.exec(b);
  if (ma === null || mb === null) return ma === null ? (mb === null ? 0 : -1) : 1;
  const ia = (ma[1] ?? '').replace(/^0+(?=\d)/, '');
  const ib = (mb[1] ?? '').replace(/^0+(?=\d)/, '');
  if (ia.length !== ib.length) return ia.length - ib.length;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const fa = ma[2] ?? '';
  const fb = mb[2] ?? '';
  const width = Math.max(fa.length, fb.length);
  const pa = fa.padEnd(width, '0');
  const pb = fb.padEnd(width, '0');
  return pa === pb ? 0 : pa < pb ? -1 : 1;
}
