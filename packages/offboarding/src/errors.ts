import { HandoverError } from '@handover/core';
import type { Blocker } from '@handover/exporter';
import type { OffboardingStep } from './offboard/journal.js';

/**
 * Offboarding refused or stopped. Codes are stable:
 * - E_OFFBOARD_INPUT: a missing reason or actor, --force without a reason (exit 2)
 * - E_OFFBOARD_NOT_CONFIRMED: erasure was not confirmed (exit 2)
 * - E_OFFBOARD_BLOCKED: blockers remain and --force was not given
 * - E_OFFBOARD_LEGAL_HOLD: the member is under legal hold; nothing overrides it
 * - E_OFFBOARD_SOURCE_MISMATCH: a rerun names another source than the journal
 * - E_OFFBOARD_VERIFY_FAILED: the stored archive failed verification; the next run exports again
 * - E_OFFBOARD_NO_VERIFIED_ARCHIVE: erase was reached without a verified archive (a bug; nothing was erased)
 * - E_OFFBOARD_STEP_FAILED: a step threw; `cause` says why, `step` where; rerun to continue
 * - E_OFFBOARD_ABORTED: the signal fired between steps; rerun to continue
 * - E_OFFBOARD_CONCURRENT: another run of the same offboarding started at the same moment
 */
export class OffboardingError extends HandoverError {
  /** The step it stopped at, when it stopped in one. */
  readonly step: OffboardingStep | undefined;
  /** The blockers behind E_OFFBOARD_BLOCKED / E_OFFBOARD_LEGAL_HOLD. */
  readonly blockers: readonly Blocker[];
  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; exitCode?: 1 | 2; step?: OffboardingStep; blockers?: readonly Blocker[] } = {},
  ) {
    super(code, message, { cause: options.cause, exitCode: options.exitCode ?? 1 });
    this.step = options.step;
    this.blockers = options.blockers ?? [];
  }
}

/**
 * Data-subject request registry errors:
 * - E_REQUEST_INPUT: bad type, date, months, missing reason or actor (exit 2)
 * - E_REQUEST_NOT_FOUND / E_REQUEST_AMBIGUOUS: no request, or a prefix matching several
 * - E_REQUEST_EXTENSION_LIMIT: the extension would go beyond three months from receipt
 * - E_REQUEST_CLOSED: the request is closed (extend, close again)
 */
export class RequestError extends HandoverError {
  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: 1 | 2 } = {}) {
    super(code, message, options);
  }
}

/**
 * Batch errors:
 * - E_BATCH_FILE: the member list cannot be read (the message names the line) (exit 2)
 * - E_BATCH_TOO_LARGE: more members than the platform allows in one batch (exit 2)
 * - E_BATCH_SHARD: a bad `--shard i/n` (exit 2)
 * - E_BATCH_INPUT: bad options (concurrency, batch name) (exit 2)
 */
export class BatchError extends HandoverError {
  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: 1 | 2 } = {}) {
    super(code, message, { cause: options.cause, exitCode: options.exitCode ?? 2 });
  }
}
