import { describe, expect, it } from 'vitest';
import { clockHtml, dayHeadingHtml, dayOf, entryHref, formatSize, safeAnchor, slugify, timeHtml } from './format.js';

function expected(d: Date): string {
  const iso = d.toISOString();
  return `<time datetime="${iso.slice(0, 19)}Z">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

describe('timeHtml', () => {
  it('matches toISOString for instants in any order, across minutes, days and 1970', () => {
    // Order matters: the formatter caches the last day and minute, so interleave near and far instants.
    const instants = [
      '2024-01-02T03:04:05.678Z', '2024-01-02T03:04:59.999Z', '2024-01-02T03:05:00.000Z', '2024-01-02T23:59:59.999Z',
      '2024-01-03T00:00:00.000Z', '2024-01-02T03:04:06.000Z', '1969-12-31T23:59:59.999Z', '1900-02-28T12:00:01Z',
      '1970-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2024-02-29T11:11:11Z',
    ].map((s) => new Date(s));
    for (let i = 0; i < 2000; i++) instants.push(new Date(Date.UTC(2020, 0, 1) + Math.floor(Math.sin(i) * 1e11)));
    for (const d of instants) expect(timeHtml(d)).toBe(expected(d));
  });

  it('shows years outside 0000–9999 whole and invalid dates as unknown', () => {
    const far = new Date(8.64e15);
    expect(timeHtml(far)).toBe(`<time datetime="${far.toISOString()}">${far.toISOString()}</time>`);
    expect(timeHtml(new Date(NaN))).toContain('unknown time');
    const d = new Date('2024-05-05T05:05:05Z');
    expect(timeHtml(d)).toBe(expected(d));
  });
});

describe('clockHtml and day headings', () => {
  it('shows the UTC clock time with the instant in datetime, for instants in any order', () => {
    const instants = ['2024-01-02T03:04:05.678Z', '2024-01-02T03:04:59Z', '2024-01-02T03:05:00Z', '1969-12-31T23:59:59.999Z', '2024-01-02T03:04:06Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z'].map((s) => new Date(s));
    for (let i = 0; i < 2000; i++) instants.push(new Date(Date.UTC(2020, 0, 1) + Math.floor(Math.sin(i) * 1e11)));
    for (const d of instants) {
      const iso = d.toISOString();
      expect(clockHtml(d)).toBe(`<time datetime="${iso.slice(0, 19)}Z">${iso.slice(11, 16)}</time>`);
    }
  });

  it('gives every day its heading, and none to instants it cannot place', () => {
    const d = new Date('2024-02-29T23:59:59.999Z');
    expect(dayOf(d)).toBe(dayOf(new Date('2024-02-29T00:00:00Z')));
    expect(dayOf(new Date('2024-03-01T00:00:00Z'))).toBe(dayOf(d) + 1);
    expect(dayOf(new Date('1969-12-31T23:59:59Z'))).toBe(-1);
    expect(dayHeadingHtml(d)).toBe('<h2 class="day"><time datetime="2024-02-29">2024-02-29</time> UTC</h2>\n');
    const far = new Date(8.64e15);
    expect(dayOf(far)).toBeNaN();
    expect(dayOf(new Date(NaN))).toBeNaN();
    expect(clockHtml(far)).toBe(timeHtml(far));
    expect(clockHtml(new Date(NaN))).toContain('unknown time');
  });
});

describe('names and paths', () => {
  it('maps ids one-to-one onto safe anchors', () => {
    expect(safeAnchor('1700000000.000100')).toBe('1700000000.000100');
    expect(safeAnchor('a_b')).toBe('a_005fb');
    expect(safeAnchor('a b/é"<')).toBe('a_0020b_002f_00e9_0022_003c');
    const ids = ['a_b', 'a_005fb', 'a b', 'a_0020b', '', '_', '😀'];
    expect(new Set(ids.map(safeAnchor)).size).toBe(ids.length);
    for (const id of ids) expect(safeAnchor(id)).toMatch(/^[A-Za-z0-9._-]*$/);
  });

  it('slugs names to short ASCII, possibly empty', () => {
    expect(slugify('Général — Q&A!')).toBe('general-q-a');
    expect(slugify('../../etc/passwd')).toBe('etc-passwd');
    expect(slugify('日本語')).toBe('');
    expect(slugify('x'.repeat(100))).toHaveLength(40);
  });

  it('percent-encodes entry paths and refuses paths that leave the archive', () => {
    expect(entryHref('../../', 'files/F1/my photo #1 ?%.png')).toBe('../../files/F1/my%20photo%20%231%20%3F%25.png');
    expect(entryHref('../../', 'files/日本.png')).toBe('../../files/%E6%97%A5%E6%9C%AC.png');
    expect(entryHref('', 'javascript:alert(1)')).toBe('javascript%3Aalert(1)');
    for (const bad of ['', '/etc/passwd', 'files/../../x', 'files//x', './x', 'files/']) expect(entryHref('../../', bad)).toBeUndefined();
  });

  it('formats sizes in decimal units', () => {
    expect(formatSize(0)).toBe('0 bytes');
    expect(formatSize(1)).toBe('1 byte');
    expect(formatSize(1234)).toBe('1.2 kB');
    expect(formatSize(999_999)).toBe('1.0 MB');
    expect(formatSize(9_960)).toBe('10 kB');
    expect(formatSize(12_345_678)).toBe('12 MB');
    expect(formatSize(-1)).toBe('unknown size');
  });
});
