import { addDuration } from '@handover/retention';
import { RequestError } from '../errors.js';

/*
 * Deadlines of data-subject requests (GDPR Art. 12(3)): an answer within one month of
 * receipt, extendable by two further months. Months are calendar months, clamped to the
 * end of the shorter month (31 January + 1 month = 28 or 29 February; 31 March + 1 month
 * = 30 April), with the calendar arithmetic of @handover/retention. Days are UTC days:
 * a request is due on a calendar date and overdue from the start of the next one.
 */

/** One month to answer. */
export const RESPONSE_MONTHS = 1;
/** At most two more months: never beyond three months from receipt. */
export const MAX_EXTENSION_MONTHS = 2;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` of the UTC day `d` falls on. */
export function calendarDay(d: Date | number): string {
  return new Date(d).toISOString().slice(0, 10);
}

function startOfDay(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/**
 * When a request was received: `YYYY-MM-DD` (the start of that UTC day) or a full ISO-8601
 * time. Throws E_REQUEST_INPUT (exit 2) for anything else, naming what was given.
 */
export function parseReceived(value: Date | string): Date {
  if (value instanceof Date) {
    if (Number.isFinite(value.getTime())) return new Date(value.getTime());
  } else if (typeof value === 'string') {
    const text = value.trim();
    const m = DATE_ONLY.exec(text);
    if (m !== null) {
      const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      // Rejects 2023-02-29 and 2024-13-01 instead of letting Date roll them over.
      if (calendarDay(t) === text) return new Date(t);
    } else if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(Date.parse(text))) {
      return new Date(Date.parse(text));
    }
  }
  throw new RequestError('E_REQUEST_INPUT', `'${String(value)}' is not a date: give the day of receipt as YYYY-MM-DD (e.g. 2024-01-31) or an ISO-8601 time`, {
    exitCode: 2,
  });
}

/** The day the answer is due: receipt + (1 + extension) calendar months. */
export function dueDateFor(receivedAt: Date, extensionMonths = 0): string {
  const day = startOfDay(calendarDay(receivedAt));
  return calendarDay(addDuration(day, `P${RESPONSE_MONTHS + extensionMonths}M`));
}

/** Overdue once the due day is over (UTC). */
export function isOverdue(dueDate: string, now: Date): boolean {
  return now.getTime() >= startOfDay(dueDate) + DAY_MS;
}

/** Whole days from today (UTC) to the due day: 0 when due today, negative when overdue. */
export function daysLeft(dueDate: string, now: Date): number {
  return Math.round((startOfDay(dueDate) - startOfDay(calendarDay(now))) / DAY_MS);
}
