import { HandoverError } from '@handover/core';

/**
 * Errors raised by retention code. Codes are stable:
 * - E_DURATION: not an ISO-8601 duration we accept
 * - E_RETENTION_CONFIG: the `retention` config section is invalid
 * - E_HOLD / E_HOLD_NOT_FOUND / E_HOLD_INPUT: hold registry
 * - E_PURGE / E_PURGE_ABORTED: the purger
 * - E_LEASE: the worker could not take or keep the lease
 */
export class RetentionError extends HandoverError {
  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: 1 | 2 } = {}) {
    super(code, message, options);
  }
}
