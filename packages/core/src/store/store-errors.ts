import { InputError, StoreError } from '../errors.js';

/** A key (or list prefix) that no adapter accepts, or that one adapter reserves. Code E_INVALID_KEY. */
export class InvalidKeyError extends InputError {
  readonly key: string;

  constructor(key: string, reason: string, options: { cause?: unknown } = {}) {
    // Long keys would drown the reason; the start is enough to find the caller.
    const shown = key.length > 120 ? `${key.slice(0, 120)}…` : key;
    super(`invalid store key '${shown}': ${reason}`, { cause: options.cause, code: 'E_INVALID_KEY' });
    this.key = key;
  }
}

/** A byte range that is malformed or starts past the end of the object. Code E_RANGE. */
export class InvalidRangeError extends StoreError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'E_RANGE' });
  }
}

/** The caller's `AbortSignal` fired before the write completed; nothing became visible. Code E_ABORTED. */
export class AbortedError extends StoreError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'E_ABORTED' });
  }
}

/** The adapter cannot do what was asked (e.g. presigning a filesystem object). Code E_UNSUPPORTED. */
export class UnsupportedStoreOperationError extends StoreError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'E_UNSUPPORTED' });
  }
}
