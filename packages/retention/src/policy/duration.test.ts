import { addDuration, formatDuration, isDuration, parseDuration } from './duration.js';

const add = (date: string, d: string): string => addDuration(new Date(date), d).toISOString();

describe('parseDuration', () => {
  it('parses every part', () => {
    expect(parseDuration('P1Y2M10DT2H30M')).toEqual({ years: 1, months: 2, weeks: 0, days: 10, hours: 2, minutes: 30, seconds: 0 });
    expect(parseDuration('P2W')).toMatchObject({ weeks: 2, days: 0 });
    expect(parseDuration('PT1.5S').seconds).toBe(1.5);
    expect(parseDuration('PT0,5S').seconds).toBe(0.5);
    expect(parseDuration('P7Y').years).toBe(7);
  });

  it.each(['', 'P', 'PT', 'P1DT', '30D', 'P-1D', 'P1.5D', 'P1W2D', 'P1H', 'PT1D', 'p30d', 'P30 D'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(expect.objectContaining({ code: 'E_DURATION' }));
    expect(isDuration(text)).toBe(false);
  });

  it('formats canonically', () => {
    expect(formatDuration(parseDuration('P1Y2M10DT2H30M'))).toBe('P1Y2M10DT2H30M');
    expect(formatDuration(parseDuration('P3W'))).toBe('P3W');
    expect(formatDuration(parseDuration('P0D'))).toBe('PT0S');
  });
});

describe('addDuration (UTC, calendar-correct)', () => {
  it('clamps months to the end of the target month', () => {
    expect(add('2024-01-31T00:00:00Z', 'P1M')).toBe('2024-02-29T00:00:00.000Z');
    expect(add('2023-01-31T00:00:00Z', 'P1M')).toBe('2023-02-28T00:00:00.000Z');
    expect(add('2024-03-31T12:34:56.789Z', 'P1M')).toBe('2024-04-30T12:34:56.789Z');
    expect(add('2024-02-29T00:00:00Z', 'P1Y')).toBe('2025-02-28T00:00:00.000Z');
    expect(add('2024-02-29T00:00:00Z', 'P4Y')).toBe('2028-02-29T00:00:00.000Z');
    expect(add('2024-11-30T00:00:00Z', 'P3M')).toBe('2025-02-28T00:00:00.000Z');
  });

  it('adds years and months before days, then time', () => {
    // Jan 31 + 1 month = Feb 29 (clamped), + 1 day = Mar 1; days first would give Mar 31 then Apr 30.
    expect(add('2024-01-31T00:00:00Z', 'P1M1D')).toBe('2024-03-01T00:00:00.000Z');
    expect(add('2023-12-31T22:00:00Z', 'PT2H30M')).toBe('2024-01-01T00:30:00.000Z');
    expect(add('2024-01-01T00:00:00Z', 'P1Y2M10DT2H30M')).toBe('2025-03-11T02:30:00.000Z');
    expect(add('2024-01-01T00:00:00Z', 'P2W')).toBe('2024-01-15T00:00:00.000Z');
  });

  it('is in UTC: a day is 24 hours whatever the local time zone', () => {
    // 2024-03-31 is a DST change in Europe; UTC doesn't care.
    expect(add('2024-03-30T12:00:00Z', 'P1D')).toBe('2024-03-31T12:00:00.000Z');
    expect(add('2024-01-01T00:00:00Z', 'P30D')).toBe('2024-01-31T00:00:00.000Z');
    expect(add('2024-01-01T00:00:00Z', 'P180D')).toBe('2024-06-29T00:00:00.000Z');
    expect(add('2024-01-01T00:00:00Z', 'P7Y')).toBe('2031-01-01T00:00:00.000Z');
  });

  it('accepts epoch milliseconds and never mutates its input', () => {
    const d = new Date('2024-01-31T00:00:00Z');
    addDuration(d, 'P1M');
    expect(d.toISOString()).toBe('2024-01-31T00:00:00.000Z');
    expect(addDuration(Date.UTC(2024, 0, 31), 'P1M').toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });
});
