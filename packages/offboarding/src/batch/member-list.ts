import { BatchError } from '../errors.js';

/*
 * Member lists for batches: a CSV with a header, or one id per line.
 *
 * - CSV: the first meaningful line is a header naming the id column: `id`, `member_id`,
 *   `member`, `username` or `email` (case-insensitive; the first of these, in this order,
 *   wins when several are present). Fields may be quoted ("a, b", "say ""hi"""); a quoted
 *   field cannot span lines. A header of just `id` (one column, no comma) is a CSV too.
 * - Otherwise: one id per line, trimmed.
 * In both, blank lines and lines starting with `#` are ignored, and duplicates are dropped
 * (the first occurrence keeps its place). Errors name the file and the 1-based line.
 */

export const ID_COLUMNS = ['id', 'member_id', 'member', 'username', 'email'] as const;

export interface MemberList {
  /** Member ids, in file order, without duplicates. */
  ids: string[];
  format: 'csv' | 'lines';
  /** The CSV column the ids came from. */
  column?: string;
  /** Lines whose id was already listed: dropped. */
  duplicates: { id: string; line: number; firstLine: number }[];
}

const fail = (file: string, line: number, message: string): never => {
  throw new BatchError('E_BATCH_FILE', `${file}:${line}: ${message}`);
};

/** Splits one CSV line (RFC 4180 quoting, no multi-line fields). */
export function splitCsvLine(line: string, file: string, lineNo: number): string[] {
  const cells: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  let wasQuoted = false;
  while (i < line.length) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        cell += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && cell.trim() === '' && !wasQuoted) {
      quoted = true;
      wasQuoted = true;
      cell = '';
    } else if (ch === ',') {
      cells.push(wasQuoted ? cell : cell.trim());
      cell = '';
      wasQuoted = false;
    } else if (wasQuoted) {
      if (ch.trim() !== '') fail(file, lineNo, `unexpected '${ch}' after a quoted field`);
    } else {
      cell += ch;
    }
    i++;
  }
  if (quoted) fail(file, lineNo, 'a quoted field is not closed (quoted fields cannot span lines)');
  cells.push(wasQuoted ? cell : cell.trim());
  return cells;
}

function checkId(id: string, file: string, lineNo: number): string {
  // Control characters are never part of an id; they are what a binary or mis-encoded file looks like.
  if (/[\u0000-\u001f\u007f]/.test(id)) fail(file, lineNo, 'the id contains control characters; is this a text file?');
  return id;
}

/** Parse a member list; `filename` is only used in messages. */
export function parseMemberList(text: string, filename: string): MemberList {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const meaningful = (l: string): boolean => l.trim() !== '' && !l.trim().startsWith('#');
  const headerIndex = lines.findIndex(meaningful);
  const ids: string[] = [];
  const firstSeen = new Map<string, number>();
  const duplicates: MemberList['duplicates'] = [];
  const add = (id: string, lineNo: number): void => {
    const first = firstSeen.get(id);
    if (first !== undefined) {
      duplicates.push({ id, line: lineNo, firstLine: first });
      return;
    }
    firstSeen.set(id, lineNo);
    ids.push(id);
  };
  if (headerIndex < 0) return { ids, format: 'lines', duplicates };

  const header = lines[headerIndex]!;
  const headerCells = header.includes(',') ? splitCsvLine(header, filename, headerIndex + 1) : [header.trim()];
  const lower = headerCells.map((c) => c.toLowerCase());
  const columnName = ID_COLUMNS.find((c) => lower.includes(c));
  const isCsv = header.includes(',') || columnName !== undefined;

  if (!isCsv) {
    lines.forEach((raw, i) => {
      if (!meaningful(raw)) return;
      const id = checkId(raw.trim(), filename, i + 1);
      if (/\s/.test(id)) fail(filename, i + 1, `'${id}' is not one member id (it contains spaces): put one id per line, or use a CSV with a header`);
      add(id, i + 1);
    });
    return { ids, format: 'lines', duplicates };
  }

  if (columnName === undefined) {
    fail(filename, headerIndex + 1, `the CSV header has no member column: expected one of ${ID_COLUMNS.join(', ')} (found: ${headerCells.join(', ')})`);
  }
  const column = lower.indexOf(columnName!);
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!meaningful(raw)) continue;
    const cells = splitCsvLine(raw, filename, i + 1);
    const id = (cells[column] ?? '').trim();
    if (id === '') fail(filename, i + 1, `no member id in column '${headerCells[column]}'`);
    add(checkId(id, filename, i + 1), i + 1);
  }
  return { ids, format: 'csv', column: headerCells[column]!, duplicates };
}
