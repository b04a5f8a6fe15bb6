/**
 * Every error Handover raises on purpose carries a stable `code` (for scripts and
 * `--json` output) and, when it wraps a lower-level failure, that failure as `cause`.
 * Messages say what went wrong, where, and what to do.
 */
export class HandoverError extends Error {
  readonly code: string;
  /** Exit status the CLI uses for this error: 1 failure, 2 usage. */
  readonly exitCode: 1 | 2;
  /** The command already printed its result (e.g. a failed verification report); print nothing more. */
  readonly reported: boolean;

  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: 1 | 2; reported?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
    this.reported = options.reported ?? false;
  }
}

/** Bad input from the user: a flag, a file, a config value. Exit 2 when it is a usage problem. */
export class InputError extends HandoverError {
  constructor(message: string, options: { cause?: unknown; code?: string; exitCode?: 1 | 2 } = {}) {
    super(options.code ?? 'E_INPUT', message, { cause: options.cause, exitCode: options.exitCode ?? 1 });
  }
}

export class NotFoundError extends HandoverError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'E_NOT_FOUND', message, options);
  }
}

export class ConfigError extends HandoverError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_CONFIG', message, { ...options, exitCode: 2 });
  }
}

export class StoreError extends HandoverError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'E_STORE', message, options);
  }
}

/** A conditional write lost: the object already exists. */
export class PreconditionFailedError extends StoreError {
  constructor(key: string, options: { cause?: unknown } = {}) {
    super(`object '${key}' already exists`, { ...options, code: 'E_EXISTS' });
  }
}

export class IntegrityError extends HandoverError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'E_INTEGRITY', message, options);
  }
}

export class CryptoError extends HandoverError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'E_CRYPTO', message, options);
  }
}

export function isHandoverError(err: unknown): err is HandoverError {
  return err instanceof HandoverError;
}

/** A one-line description of any thrown value, for logs and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
