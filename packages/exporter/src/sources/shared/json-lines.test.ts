import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileLines, readLines, type RawLine } from './json-lines.js';
import { SourceFormatError } from './source-format-error.js';

const tmp = mkdtempSync(join(tmpdir(), 'handover-lines-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TEXT = '\uFEFF{"a":1}\r\n\n{"é":"日本語 🎉"}\n{"last":true}';
const BYTES = Buffer.from(TEXT, 'utf8');

async function all(lines: AsyncIterable<RawLine>): Promise<RawLine[]> {
  const out: RawLine[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

/** A stream that hands out the bytes `size` at a time, splitting multi-byte characters. */
function chunked(size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < BYTES.length; i += size) parts.push(BYTES.subarray(i, i + size));
  return Readable.from(parts);
}

describe('readLines and readFileLines', () => {
  const path = join(tmp, 'lines.jsonl');
  writeFileSync(path, BYTES);

  it('split lines with 1-based numbers and byte ranges that read the line back', async () => {
    const fromFile = await all(readFileLines(path, { file: 'lines.jsonl' }));
    expect(fromFile.map((l) => [l.line, l.text])).toEqual([
      [1, '{"a":1}'],
      [2, ''],
      [3, '{"é":"日本語 🎉"}'],
      [4, '{"last":true}'],
    ]);
    for (const l of fromFile) {
      const back = BYTES.toString('utf8', l.offset, l.offset + l.bytes).replace(/\r$/, '').replace(/^\uFEFF/, '');
      expect(back).toBe(l.text);
    }
    for (const size of [1, 2, 3, 7, 1024]) {
      expect(await all(readLines(chunked(size), { file: 'lines.jsonl' }))).toEqual(fromFile);
    }
  });

  it('refuse a line longer than the limit, naming the file and line', async () => {
    const long = join(tmp, 'long.jsonl');
    writeFileSync(long, `{"ok":1}\n${'x'.repeat(5000)}\n`);
    for (const lines of [readFileLines(long, { file: 'long.jsonl', maxLineBytes: 4096 }), readLines(chunked(1), { file: 'long.jsonl', maxLineBytes: 16 })]) {
      const err = await all(lines).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SourceFormatError);
      expect(err).toMatchObject({ file: 'long.jsonl' });
    }
    const err = (await all(readFileLines(long, { file: 'long.jsonl', maxLineBytes: 4096 })).catch((e: unknown) => e)) as SourceFormatError;
    expect(err.line).toBe(2);
  });

  it('read a file without a final line break and an empty file', async () => {
    const empty = join(tmp, 'empty.jsonl');
    writeFileSync(empty, '');
    expect(await all(readFileLines(empty, { file: 'empty.jsonl' }))).toEqual([]);
    expect(await all(readLines(Readable.from([]), { file: 'empty.jsonl' }))).toEqual([]);
  });
});
