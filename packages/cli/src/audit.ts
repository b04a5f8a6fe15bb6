import { createAuditLog, systemClock, type AuditEntry, type AuditLog } from '@handover/core';
import type { StoreContext } from './store-context.js';

export function openAudit(sc: StoreContext): AuditLog {
  return createAuditLog({ store: sc.store, clock: systemClock });
}

/**
 * Runs a state-changing step and records it, success or failure, in the audit log.
 * The record of a failure is best effort: the original error is what the user sees.
 * `failed` marks a step that returned but did only part of its work (recorded as a failure).
 */
export async function audited<T>(
  audit: AuditLog,
  entry: Omit<AuditEntry, 'outcome'>,
  step: () => Promise<T>,
  details?: (result: T) => Record<string, unknown>,
  failed?: (result: T) => boolean,
): Promise<T> {
  let result: T;
  try {
    result = await step();
  } catch (err) {
    await audit
      .append({ ...entry, outcome: 'failure', details: { ...entry.details, error: (err as Error).message } })
      .catch(() => undefined);
    throw err;
  }
  await audit.append({ ...entry, outcome: failed?.(result) ? 'failure' : 'success', details: { ...entry.details, ...(details ? details(result) : {}) } });
  return result;
}
