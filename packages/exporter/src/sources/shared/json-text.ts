import { SourceFormatError, type SourceFormatErrorOptions } from './source-format-error.js';

export interface JsonSyntaxProblem {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
  message: string;
}

const MAX_DEPTH = 4096;

/**
 * Where a JSON text first goes wrong. Only called after `JSON.parse` failed: V8's own
 * messages name no line in Node 20 and quote the input (which may hold tokens), so
 * this small validator reports a line and column and describes the problem without
 * echoing the text.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const fail = (message: string): never => {
    throw new LocatedProblem(i, message);
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i += 1;
      else break;
    }
  };
  const describe = (): string => (i >= text.length ? 'the text ends too early' : `unexpected character ${JSON.stringify(text[i])}`);
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(describe());
  };
  const string = (): void => {
    i += 1; // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i += 1;
        return;
      }
      if (c < 0x20) fail('control character inside a string (escape it as \\u00XX)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          fail('invalid escape in a string');
        }
      } else {
        i += 1;
      }
    }
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null) fail(describe());
    else i += m[0].length;
  };
  const value = (depth: number): void => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i += 1;
      ws();
      if (text[i] === '}') {
        i += 1;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${i >= text.length ? 'the end of the text' : JSON.stringify(text[i])}`);
        string();
        ws();
        if (text[i] !== ':') fail("expected ':' after a property name");
        i += 1;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === '}') {
          i += 1;
          return;
        }
        fail("expected ',' or '}' after a property value");
      }
    } else if (c === '[') {
      i += 1;
      ws();
      if (text[i] === ']') {
        i += 1;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === ']') {
          i += 1;
          return;
        }
        fail("expected ',' or ']' after an array element");
      }
    } else if (c === '"') {
      string();
    } else if (c === 't') {
      literal('true');
    } else if (c === 'f') {
      literal('false');
    } else if (c === 'n') {
      literal('null');
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      number();
    } else {
      fail(i >= text.length ? 'the text ends where a value was expected' : `unexpected character ${JSON.stringify(c)} where a value was expected`);
    }
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(0);
    ws();
    if (i < text.length) fail('unexpected text after the JSON value');
    return undefined;
  } catch (err) {
    if (!(err instanceof LocatedProblem)) throw err;
    return { ...lineAndColumn(text, err.offset), message: err.message };
  }
}

class LocatedProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    line += 1;
    lineStart = k + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * `JSON.parse` that fails with a `SourceFormatError` naming `file` and the line (and
 * column) of the problem. `lineOffset` shifts the line for texts that are one line of
 * a bigger file.
 */
export function parseJsonText(text: string, file: string, options: SourceFormatErrorOptions & { lineOffset?: number } = {}): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    // V8's message quotes the input, which may hold secrets: it is not kept as `cause`.
    const problem = findJsonSyntaxError(text);
    const { lineOffset, ...rest } = options;
    if (problem === undefined) {
      // JSON.parse and the validator disagree (should not happen): report without a position.
      throw new SourceFormatError(file, 'invalid JSON', rest);
    }
    const line = options.line ?? problem.line + (lineOffset ?? 0);
    const column = options.line === undefined ? `column ${problem.column}` : `character ${problem.column}`;
    throw new SourceFormatError(file, `invalid JSON at ${column}: ${problem.message}`, { ...rest, line });
  }
}
