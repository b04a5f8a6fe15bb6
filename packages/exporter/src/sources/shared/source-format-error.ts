import { HandoverError } from '@handover/core';

export interface SourceFormatErrorOptions {
  /** 1-based line (JSON-lines, JSON text) or entry index, when known. */
  line?: number;
  /** Whether `line` counts text lines (default) or entries of a JSON array (the nth message of a day file). */
  unit?: 'line' | 'entry';
  /** The archive or directory the file belongs to, named in the message so users find it. */
  container?: string;
  /** What the user can do about it; a default that mentions `--skip-invalid` is used otherwise. */
  hint?: string;
  cause?: unknown;
}

const DEFAULT_HINT = 'Fix or remove it, or rerun with --skip-invalid to skip invalid items and record them in the manifest.';

/**
 * A source file that cannot be read as the platform's export format: a damaged zip,
 * invalid JSON, a JSON-lines record of the wrong shape. `file` is the path inside the
 * export (what the manifest records for skipped items) and `line` is 1-based.
 */
export class SourceFormatError extends HandoverError {
  readonly file: string;
  readonly line: number | undefined;
  /** The problem alone, without location or hint: what `skipped()` records. */
  readonly reason: string;

  constructor(file: string, reason: string, options: SourceFormatErrorOptions = {}) {
    const where = `${file}${options.container === undefined ? '' : ` (in ${options.container})`}${
      options.line === undefined ? '' : `, ${options.unit ?? 'line'} ${options.line}`
    }`;
    super('E_SOURCE_FORMAT', `${where}: ${reason}. ${options.hint ?? DEFAULT_HINT}`, { cause: options.cause, exitCode: 1 });
    this.file = file;
    this.line = options.line;
    this.reason = reason;
  }
}
