import { z } from 'zod';

/*
 * ## The offboarding journal: offboarding/<subjectRef>/journal.json
 *
 * One JSON document per member, rewritten after every completed step, that says which
 * steps are done and what they produced:
 *
 *   {
 *     "version": 1,
 *     "subjectRef": "3f9a…",            // keyed hash of the member id (the key ring's), never the id
 *     "sourceName": "demo",
 *     "reason": "…", "actor": "…",      // of the run that started it; every run's are in the audit log
 *     "startedAt": "…", "updatedAt": "…", "runs": 2,
 *     "steps": [ { "step": "check-blockers", "at": "…", "actor": "…", "how": "performed" }, … ],
 *     "force": { "actor", "reason", "at", "overridden": ["sole-owner"] },   // when --force was used
 *     "archive": { "key", "exportedAt", "sha256", "bytes", "verifiedAt" },
 *     "rejectedArchives": [ { "key", "at", "problems": [] } ],             // failed verification
 *     "revokedGrants": [ { "id", "at", "how" } ],
 *     "erasedAt": "…", "backup": { "key", "retentionClass", "filedAt" }, "completedAt": "…"
 *   }
 *
 * Steps complete strictly in order, so "done" is a prefix of OFFBOARDING_STEPS and a rerun
 * continues at the first step not in it. The member id is not stored: whoever reruns the
 * offboarding names the member, and the journal is found through the ref.
 */

export const OFFBOARDING_STEPS = ['check-blockers', 'export', 'verify', 'revoke-grants', 'erase', 'file-backup'] as const;
export type OffboardingStep = (typeof OFFBOARDING_STEPS)[number];

export const OFFBOARDING_PREFIX = 'offboarding/';

export function journalKey(subjectRef: string, prefix = OFFBOARDING_PREFIX): string {
  return `${prefix}${subjectRef}/journal.json`;
}

/**
 * How a step was done: by this tool (`performed`), by the operator in the platform and
 * vouched for (`attested`, read-only sources), or found already done (`found-done`: e.g.
 * the member was already gone when the erase step came, after a run that erased but
 * stopped before writing the journal).
 */
export type StepHow = 'performed' | 'attested' | 'found-done';

const isoTime = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'must be an ISO-8601 time');
const how = z.enum(['performed', 'attested', 'found-done']);
const blockerCode = z.enum(['sole-owner', 'sole-admin', 'pending-approvals', 'pending-tasks', 'active-grants', 'legal-hold']);

export const journalSchema = z.object({
  version: z.literal(1),
  subjectRef: z.string().min(1),
  sourceName: z.string().min(1),
  reason: z.string(),
  actor: z.string(),
  startedAt: isoTime,
  updatedAt: isoTime,
  runs: z.number().int().nonnegative(),
  steps: z.array(z.object({ step: z.enum(OFFBOARDING_STEPS), at: isoTime, actor: z.string(), how })),
  force: z.object({ actor: z.string(), reason: z.string(), at: isoTime, overridden: z.array(blockerCode) }).optional(),
  archive: z
    .object({
      key: z.string().min(1),
      exportedAt: isoTime,
      sha256: z.string().optional(),
      bytes: z.number().nonnegative().optional(),
      verifiedAt: isoTime.optional(),
    })
    .optional(),
  rejectedArchives: z.array(z.object({ key: z.string(), at: isoTime, problems: z.array(z.string()) })),
  revokedGrants: z.array(z.object({ id: z.string(), at: isoTime, how })),
  erasedAt: isoTime.optional(),
  erasure: how.optional(),
  backup: z.object({ key: z.string().min(1), retentionClass: z.string(), filedAt: isoTime }).optional(),
  completedAt: isoTime.optional(),
});

export type OffboardingJournal = z.infer<typeof journalSchema>;

/** A journal for a new offboarding (not yet stored). */
export function newJournal(input: { subjectRef: string; sourceName: string; reason: string; actor: string; now: Date }): OffboardingJournal {
  const at = input.now.toISOString();
  return {
    version: 1,
    subjectRef: input.subjectRef,
    sourceName: input.sourceName,
    reason: input.reason,
    actor: input.actor,
    startedAt: at,
    updatedAt: at,
    runs: 0,
    steps: [],
    rejectedArchives: [],
    revokedGrants: [],
  };
}

export function isStepDone(journal: OffboardingJournal, step: OffboardingStep): boolean {
  return journal.steps.some((s) => s.step === step);
}

/** The first step not done yet, or undefined when the offboarding is complete. */
export function nextStep(journal: OffboardingJournal): OffboardingStep | undefined {
  return OFFBOARDING_STEPS.find((s) => !isStepDone(journal, s));
}

/** Records `step` as done. Only the next step can be: steps complete in order. */
export function markStepDone(journal: OffboardingJournal, step: OffboardingStep, at: Date, actor: string, stepHow: StepHow = 'performed'): OffboardingJournal {
  const expected = nextStep(journal);
  if (expected !== step) {
    throw new TypeError(`offboarding journal: cannot complete '${step}' while the next step is '${expected ?? '(none: complete)'}'`);
  }
  const iso = at.toISOString();
  const out: OffboardingJournal = { ...journal, updatedAt: iso, steps: [...journal.steps, { step, at: iso, actor, how: stepHow }] };
  if (step === 'file-backup') out.completedAt = iso;
  return out;
}

/**
 * After a failed verification: the archive is set aside and `export` (with `verify`) is
 * undone, so the next run exports afresh rather than verifying the same bad object forever.
 */
export function rejectArchive(journal: OffboardingJournal, problems: readonly string[], at: Date): OffboardingJournal {
  if (journal.archive === undefined) return journal;
  const iso = at.toISOString();
  const { archive: _rejected, ...rest } = journal;
  return {
    ...rest,
    updatedAt: iso,
    steps: journal.steps.filter((s) => s.step !== 'export' && s.step !== 'verify'),
    rejectedArchives: [...journal.rejectedArchives, { key: journal.archive.key, at: iso, problems: [...problems] }],
  };
}

/** The guard in front of erasure: a verified archive exists and the journal says verify is done. */
export function hasVerifiedArchive(journal: OffboardingJournal): boolean {
  return journal.archive?.verifiedAt !== undefined && isStepDone(journal, 'verify');
}
