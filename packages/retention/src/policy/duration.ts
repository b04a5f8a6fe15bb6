import { RetentionError } from '../errors.js';

/**
 * An ISO-8601 duration, split into its calendar parts. Years and months are calendar units
 * (their length depends on where they are added), days are 24-hour UTC days, the rest are
 * exact.
 */
export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  /** May carry a fraction (`PT1.5S`). */
  seconds: number;
}

// PnYnMnDTnHnMnS, every part optional but at least one present; or PnW on its own
// (ISO 8601-1 keeps the week form separate). Only seconds may carry a fraction.
const FULL = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;
const WEEKS = /^P(\d+)W$/;

const cache = new Map<string, Duration>();

/** Parse `P1Y2M10DT2H30M`, `P7Y`, `PT36H`, `P2W`. Throws RetentionError(E_DURATION). */
export function parseDuration(text: string): Duration {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const d = parseUncached(text);
  // Policies name a handful of durations; caching keeps a million-object plan off the regex.
  if (cache.size < 1000) cache.set(text, d);
  return d;
}

function parseUncached(text: string): Duration {
  if (typeof text !== 'string') throw new RetentionError('E_DURATION', `duration must be a string, not ${typeof text}`);
  const w = WEEKS.exec(text);
  if (w !== null) {
    return Object.freeze({ years: 0, months: 0, weeks: Number(w[1]), days: 0, hours: 0, minutes: 0, seconds: 0 });
  }
  const m = FULL.exec(text);
  if (m === null || text === 'P' || text.endsWith('T')) {
    throw new RetentionError(
      'E_DURATION',
      `invalid ISO-8601 duration '${text}': expected e.g. P30D, P7Y, P1Y2M10DT2H30M or P2W`,
    );
  }
  const n = (s: string | undefined): number => (s === undefined ? 0 : Number(s.replace(',', '.')));
  const d: Duration = {
    years: n(m[1]),
    months: n(m[2]),
    weeks: 0,
    days: n(m[3]),
    hours: n(m[4]),
    minutes: n(m[5]),
    seconds: n(m[6]),
  };
  for (const [k, v] of Object.entries(d)) {
    if (!Number.isFinite(v) || v > 1e7) throw new RetentionError('E_DURATION', `duration '${text}': ${k} is out of range`);
  }
  return Object.freeze(d);
}

/** True when `text` parses. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/**
 * `date + duration`, calendar-correct in UTC. Years and months move the calendar date and
 * clamp to the month's last day (2024-01-31 + P1M = 2024-02-29; 2023-01-31 + P1M =
 * 2023-02-28; 2024-02-29 + P1Y = 2025-02-28); then weeks and days add whole UTC days; then
 * the time parts add exact milliseconds. Accepts a Date or epoch milliseconds; returns a
 * new Date.
 */
export function addDuration(date: Date | number, duration: Duration | string): Date {
  return new Date(addDurationMs(typeof date === 'number' ? date : date.getTime(), duration));
}

/** addDuration on epoch milliseconds: what the planner calls a million times. */
export function addDurationMs(t: number, duration: Duration | string): number {
  if (!Number.isFinite(t)) throw new RetentionError('E_DURATION', 'cannot add a duration to an invalid date');
  const d = typeof duration === 'string' ? parseDuration(duration) : duration;
  let out = t;
  const totalMonths = d.years * 12 + d.months;
  if (totalMonths !== 0) {
    const x = new Date(t);
    const y = x.getUTCFullYear();
    const m0 = x.getUTCMonth() + totalMonths;
    const ty = y + Math.floor(m0 / 12);
    const tm = ((m0 % 12) + 12) % 12;
    const day = Math.min(x.getUTCDate(), daysInMonth(ty, tm));
    const timeOfDay = t - Date.UTC(y, x.getUTCMonth(), x.getUTCDate());
    out = Date.UTC(ty, tm, day) + timeOfDay;
  }
  const days = d.weeks * 7 + d.days;
  out += days * 86_400_000 + d.hours * 3_600_000 + d.minutes * 60_000 + Math.round(d.seconds * 1000);
  return out;
}

/** Canonical text of a parsed duration (`P1Y2M10DT2H30M`), for reasons and certificates. */
export function formatDuration(d: Duration): string {
  if (d.weeks !== 0 && d.years + d.months + d.days + d.hours + d.minutes + d.seconds === 0) return `P${d.weeks}W`;
  const date = `${d.years ? `${d.years}Y` : ''}${d.months ? `${d.months}M` : ''}${d.weeks * 7 + d.days ? `${d.weeks * 7 + d.days}D` : ''}`;
  const time = `${d.hours ? `${d.hours}H` : ''}${d.minutes ? `${d.minutes}M` : ''}${d.seconds ? `${d.seconds}S` : ''}`;
  if (date === '' && time === '') return 'PT0S';
  return `P${date}${time === '' ? '' : `T${time}`}`;
}
