import { describeError, NotFoundError, type AuditLog, type AuditOutcome, type Clock, type KeyRing, type Store } from '@handover/core';
import { hasCapability, isGrantActive, requireCapability, type Blocker, type Grant, type Source } from '@handover/exporter';
import { OffboardingError } from '../errors.js';
import { isExists } from '../json-object.js';
import { decideBlockers, legalHoldBlockers } from './blockers.js';
import { collectBlockers, type HoldLookup } from './check.js';
import {
  hasVerifiedArchive,
  isStepDone,
  markStepDone,
  newJournal,
  nextStep,
  OFFBOARDING_STEPS,
  rejectArchive,
  type OffboardingJournal,
  type OffboardingStep,
  type StepHow,
} from './journal.js';
import { readOffboardingJournal, writeOffboardingJournal } from './journal-store.js';

/*
 * ## Offboarding one member
 *
 *   check-blockers → export → verify → revoke-grants → erase → file-backup
 *
 * Each step, once done, is recorded in the journal (offboarding/<subjectRef>/journal.json)
 * and in the audit log (`offboard.<step>`). A rerun reads the journal and continues at the
 * first step not done, so an interruption anywhere (crash, Ctrl-C, a failing store) costs
 * at most the step it interrupted.
 *
 * Guarantees:
 * - erase runs only when the journal holds an archive that passed verification; a failed
 *   verification sets the archive aside and makes the next run export again;
 * - legal holds are checked at the start AND again right before erasing (a hold placed
 *   while the export ran still stops the erasure); nothing overrides them;
 * - erase is not repeated: once recorded it is skipped, and a run that erased but died
 *   before writing the journal finds the member gone and records that instead of erasing
 *   again;
 * - within a step, the audit record is written before the journal: a crash in between
 *   repeats the step (every step is idempotent) rather than losing its audit record.
 *
 * The export, the verification and the filing under retention are injected functions:
 * this module orders and records; the CLI wires the real exporter, verifier and store.
 */

export const POST_DELETION_BACKUP_CLASS = 'post-deletion-backup';

export interface ExportStepInput {
  /** The member's id in the source. */
  memberId: string;
  subjectRef: string;
  reason: string;
  actor: string;
  signal?: AbortSignal;
}

export interface ExportStepResult {
  /** Key of the stored (encrypted) archive. */
  key: string;
  sha256?: string;
  bytes?: number;
}

/** Exports the member and stores the archive; resolves once it is durably stored. */
export type ExportStep = (input: ExportStepInput) => Promise<ExportStepResult>;

export interface VerifyStepInput {
  key: string;
  subjectRef: string;
  signal?: AbortSignal;
}

export interface VerifyStepResult {
  ok: boolean;
  /** One sentence per problem found; empty when ok. */
  problems: string[];
}

/** Reads the stored archive back (decrypting it as a stream) and verifies it. */
export type VerifyStep = (input: VerifyStepInput) => Promise<VerifyStepResult>;

export interface FileBackupStepInput {
  /** The verified archive. */
  key: string;
  subjectRef: string;
  retentionClass: typeof POST_DELETION_BACKUP_CLASS;
  actor: string;
  reason: string;
  signal?: AbortSignal;
}

/**
 * Files the archive under the post-deletion-backup retention class; returns the key it is
 * kept under from now on (the class is part of archive keys, so it may be a new one).
 * Must be idempotent: a rerun after an interruption calls it again with the same input.
 */
export type FileBackupStep = (input: FileBackupStepInput) => Promise<{ key: string }>;

export interface OffboardingEvent {
  step: OffboardingStep;
  /** `already-done`: recorded by an earlier run, skipped. */
  status: 'start' | 'done' | 'already-done';
  how?: StepHow;
}

export interface OffboardOptions {
  /** The member's id (username or email also work while the member exists; after erasure only the id does). */
  memberId: string;
  /** Why the member is offboarded. Required; recorded in the journal and every audit record. */
  reason: string;
  /** Who runs it (user, service account). */
  actor: string;
  /** Proceed despite non-legal blockers (sole owner or admin, pending approvals or tasks). Never overrides a legal hold. */
  force?: boolean;
  /** Why the blockers may be ignored. Required with `force`. */
  forceReason?: string;
  /**
   * The operator confirmed the erasure (typed the member id, or passed --yes). Required:
   * erasure cannot be undone. Not needed to finish an offboarding whose erase is done.
   */
  confirmed: boolean;
  /**
   * For a source that cannot revoke grants or erase members (an export file): the operator
   * vouches that both were done in the platform itself. Those steps are then recorded as
   * `attested`, after the same export and verification. Ignored for writable sources.
   */
  erasedInSource?: boolean;
  source: Source;
  /** Holds the journal. */
  store: Store;
  /** Names the member in journals, holds and audit records (`subjectRef`); the id itself is never stored. */
  keyRing: Pick<KeyRing, 'subjectRef'>;
  audit: AuditLog;
  clock: Clock;
  holds: HoldLookup;
  exportToStore: ExportStep;
  verifyStored: VerifyStep;
  fileBackup: FileBackupStep;
  /** Aborting stops before the next step (and is passed to export, verify and filing). */
  signal?: AbortSignal;
  /** Progress, for the CLI. */
  onEvent?: (event: OffboardingEvent) => void;
}

export interface OffboardingSummary {
  memberId: string;
  subjectRef: string;
  /** `already-completed`: an earlier run finished; this one changed nothing. */
  status: 'completed' | 'already-completed';
  /** The first step this run had to do, when an earlier run had done some. */
  resumedFrom?: OffboardingStep;
  /** Steps this run performed, in order. */
  ranSteps: OffboardingStep[];
  /** What the blocker check found, when this run made it. */
  blockers: Blocker[];
  forced?: OffboardingJournal['force'];
  /** The verified archive. */
  archiveKey: string;
  /** Where the archive is kept as the post-deletion backup. */
  backupKey: string;
  revokedGrants: string[];
  erasedAt: string;
  erasure: StepHow;
  journal: OffboardingJournal;
}

function requireText(value: unknown, message: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new OffboardingError('E_OFFBOARD_INPUT', message, { exitCode: 2 });
  return value.trim();
}

/** Offboard one member, or continue an offboarding an earlier run started. See the comment at the top. */
export async function offboard(options: OffboardOptions): Promise<OffboardingSummary> {
  const reason = requireText(options.reason, 'offboarding needs a reason (--reason): it is recorded in the journal and the audit log');
  const actor = requireText(options.actor, 'offboarding needs an actor (who runs it)');
  const selector = requireText(options.memberId, 'offboarding needs a member id (--member)');
  const force = options.force === true;
  const forceReason = force
    ? requireText(options.forceReason, '--force needs its own reason (--force-reason): why the blockers may be ignored; it is recorded in the audit log')
    : undefined;
  const { source, store } = options;

  const member = await source.findMember(selector);
  const memberId = member?.id ?? selector;
  const subjectRef = options.keyRing.subjectRef(memberId);
  const existing = await readOffboardingJournal(store, subjectRef);

  if (existing === undefined && member === undefined) {
    throw new NotFoundError(`member '${selector}' not found in source '${source.name}', and no offboarding of it was started; check the id`, {
      code: 'E_MEMBER_NOT_FOUND',
    });
  }
  if (existing !== undefined && existing.sourceName !== source.name) {
    throw new OffboardingError(
      'E_OFFBOARD_SOURCE_MISMATCH',
      `the offboarding of '${memberId}' was started with source '${existing.sourceName}', not '${source.name}': continue it with --source ${existing.sourceName}`,
      { exitCode: 2 },
    );
  }
  if (existing?.completedAt !== undefined) return summarize(existing, memberId, 'already-completed', undefined, [], []);

  const eraseDone = existing !== undefined && isStepDone(existing, 'erase');
  if (!eraseDone && options.confirmed !== true) {
    throw new OffboardingError(
      'E_OFFBOARD_NOT_CONFIRMED',
      `offboarding '${memberId}' erases the member in '${source.name}', which cannot be undone: confirm by typing the member id, or pass --yes`,
      { exitCode: 2 },
    );
  }
  // Fail before exporting anything when the source cannot do what the later steps need.
  if (options.erasedInSource !== true) {
    if (existing === undefined || !isStepDone(existing, 'revoke-grants')) requireCapability(source, 'revokeGrant', { memberId });
    if (!eraseDone) requireCapability(source, 'erase', { memberId });
  }

  const run = new OffboardingRun(options, { memberId, subjectRef, reason, actor, force, forceReason }, existing);
  return run.execute();
}

interface RunInput {
  memberId: string;
  subjectRef: string;
  reason: string;
  actor: string;
  force: boolean;
  forceReason: string | undefined;
}

class OffboardingRun {
  #journal: OffboardingJournal;
  #stored: boolean;
  readonly #resumedFrom: OffboardingStep | undefined;
  readonly #ran: OffboardingStep[] = [];
  #blockers: Blocker[] = [];

  constructor(
    private readonly options: OffboardOptions,
    private readonly input: RunInput,
    existing: OffboardingJournal | undefined,
  ) {
    this.#stored = existing !== undefined;
    this.#resumedFrom = existing === undefined ? undefined : nextStep(existing);
    const base =
      existing ??
      newJournal({ subjectRef: input.subjectRef, sourceName: options.source.name, reason: input.reason, actor: input.actor, now: options.clock.now() });
    this.#journal = { ...base, runs: base.runs + 1 };
  }

  async execute(): Promise<OffboardingSummary> {
    for (const s of OFFBOARDING_STEPS) if (isStepDone(this.#journal, s)) this.options.onEvent?.({ step: s, status: 'already-done' });
    if (this.#stored) await this.#save();
    for (let step = nextStep(this.#journal); step !== undefined; step = nextStep(this.#journal)) {
      if (this.options.signal?.aborted) {
        throw new OffboardingError(
          'E_OFFBOARD_ABORTED',
          `offboarding '${this.input.memberId}' stopped before step '${step}'; the steps before it are recorded: run the same command again to continue`,
          { step, cause: this.options.signal.reason },
        );
      }
      this.options.onEvent?.({ step, status: 'start' });
      await this.#run(step);
      this.#ran.push(step);
      this.options.onEvent?.({ step, status: 'done', how: this.#journal.steps.at(-1)?.how ?? 'performed' });
    }
    return summarize(this.#journal, this.input.memberId, 'completed', this.#resumedFrom, this.#ran, this.#blockers);
  }

  async #run(step: OffboardingStep): Promise<void> {
    try {
      switch (step) {
        case 'check-blockers':
          return await this.#checkBlockers();
        case 'export':
          return await this.#export();
        case 'verify':
          return await this.#verify();
        case 'revoke-grants':
          return await this.#revokeGrants();
        case 'erase':
          return await this.#erase();
        case 'file-backup':
          return await this.#fileBackup();
      }
    } catch (err) {
      // Refusals were audited where they were decided; anything else is a failure of the step.
      if (err instanceof OffboardingError) throw err;
      await this.#auditQuietly(step, 'failure', this.input.subjectRef, { error: describeError(err), ...codeOf(err) });
      throw new OffboardingError(
        'E_OFFBOARD_STEP_FAILED',
        `offboarding '${this.input.memberId}' stopped at step '${step}': ${describeError(err)}. The steps before it are recorded: run the same command again to continue from '${step}'`,
        { cause: err, step },
      );
    }
  }

  // ---- steps

  async #checkBlockers(): Promise<void> {
    const { source, keyRing, holds, clock } = this.options;
    const report = await collectBlockers({ memberId: this.input.memberId, source, keyRing, holds, clock });
    this.#blockers = report.blockers;
    const decision = decideBlockers(report.blockers, { force: this.input.force });
    const codes = (bs: readonly Blocker[]) => bs.map((b) => b.code);
    if (!decision.proceed) {
      const legal = decision.legal.length > 0;
      await this.#audit('check-blockers', 'refused', this.input.subjectRef, {
        blockers: codes(report.blockers),
        refusing: codes(decision.refusing),
        force: this.input.force,
      });
      const list = decision.refusing.map((b) => `- ${b.message}`).join('\n');
      throw legal
        ? new OffboardingError(
            'E_OFFBOARD_LEGAL_HOLD',
            `cannot offboard '${this.input.memberId}':\n${list}\nA legal hold cannot be overridden, not even with --force: it must be released first.`,
            { step: 'check-blockers', blockers: decision.refusing },
          )
        : new OffboardingError(
            'E_OFFBOARD_BLOCKED',
            `cannot offboard '${this.input.memberId}' while ${decision.refusing.length} blocker${decision.refusing.length === 1 ? '' : 's'} remain${decision.refusing.length === 1 ? 's' : ''}:\n${list}\nResolve ${decision.refusing.length === 1 ? 'it' : 'them'}, or run again with --force and --force-reason to override.`,
            { step: 'check-blockers', blockers: decision.refusing },
          );
    }
    if (decision.overridden.length > 0) {
      const at = this.options.clock.now().toISOString();
      this.#journal = {
        ...this.#journal,
        force: { actor: this.input.actor, reason: this.input.forceReason ?? '', at, overridden: codes(decision.overridden) },
      };
      await this.options.audit.append({
        actor: this.input.actor,
        action: 'offboard.force',
        target: this.input.subjectRef,
        subjectRef: this.input.subjectRef,
        reason: this.input.forceReason ?? '',
        outcome: 'success',
        details: { overridden: decision.overridden.map((b) => ({ code: b.code, message: b.message })) },
      });
    }
    await this.#complete('check-blockers', 'performed', this.input.subjectRef, {
      blockers: codes(report.blockers),
      overridden: codes(decision.overridden),
      handledByOffboarding: codes(decision.handled),
      sourceChecked: report.sourceChecked,
    });
  }

  async #export(): Promise<void> {
    const { memberId, subjectRef, reason, actor } = this.input;
    const result = await this.options.exportToStore({ memberId, subjectRef, reason, actor, ...this.#signal() });
    if (typeof result?.key !== 'string' || result.key === '') throw new TypeError('the export step returned no archive key');
    this.#journal = {
      ...this.#journal,
      archive: {
        key: result.key,
        exportedAt: this.options.clock.now().toISOString(),
        ...(result.sha256 === undefined ? {} : { sha256: result.sha256 }),
        ...(result.bytes === undefined ? {} : { bytes: result.bytes }),
      },
    };
    await this.#complete('export', 'performed', result.key, { sha256: result.sha256 ?? null, bytes: result.bytes ?? null });
  }

  async #verify(): Promise<void> {
    const archive = this.#journal.archive;
    if (archive === undefined) throw new TypeError('the journal records the export as done but holds no archive key');
    const result = await this.options.verifyStored({ key: archive.key, subjectRef: this.input.subjectRef, ...this.#signal() });
    if (!result.ok) {
      const problems = result.problems.length > 0 ? result.problems : ['verification failed without naming a problem'];
      await this.#audit('verify', 'failure', archive.key, { problems });
      this.#journal = rejectArchive(this.#journal, problems, this.options.clock.now());
      await this.#save();
      throw new OffboardingError(
        'E_OFFBOARD_VERIFY_FAILED',
        `the stored archive '${archive.key}' failed verification (${problems.join('; ')}): nothing was revoked or erased. Run the same command again to export a fresh archive`,
        { step: 'verify' },
      );
    }
    this.#journal = { ...this.#journal, archive: { ...archive, verifiedAt: this.options.clock.now().toISOString() } };
    await this.#complete('verify', 'performed', archive.key, {});
  }

  async #revokeGrants(): Promise<void> {
    const { source, clock } = this.options;
    const { memberId, subjectRef, actor, reason } = this.input;
    if (!hasCapability(source, 'revokeGrant')) {
      if (this.options.erasedInSource !== true) requireCapability(source, 'revokeGrant', { memberId });
      await this.#complete('revoke-grants', 'attested', subjectRef, { attested: true });
      return;
    }
    const revoke = requireCapability(source, 'revokeGrant', { memberId });
    const done = new Set(this.#journal.revokedGrants.map((g) => g.id));
    const grants = await this.#grants();
    // Revoked since this offboarding started but not journaled: an earlier run revoked it and
    // stopped before recording it. Recorded as found done, so the journal lists every grant.
    const startedAt = Date.parse(this.#journal.startedAt);
    const foundDone = grants.filter((g) => !done.has(g.id) && g.revokedAt !== undefined && g.revokedAt.getTime() >= startedAt);
    if (foundDone.length > 0) {
      this.#journal = {
        ...this.#journal,
        revokedGrants: [...this.#journal.revokedGrants, ...foundDone.map((g) => ({ id: g.id, at: g.revokedAt!.toISOString(), how: 'found-done' as const }))],
      };
      await this.#save();
      for (const g of foundDone) done.add(g.id);
    }
    const todo = grants.filter((g) => isGrantActive(g, clock.now()) && !done.has(g.id));
    const revokedNow: string[] = [];
    for (const grant of todo) {
      if (this.options.signal?.aborted) throw new Error('aborted between two grant revocations');
      const after = await revoke(memberId, grant.id, { actor, reason });
      const at = (after.revokedAt ?? clock.now()).toISOString();
      this.#journal = { ...this.#journal, revokedGrants: [...this.#journal.revokedGrants, { id: grant.id, at, how: 'performed' }] };
      // Saved per grant: an interruption does not lose the revocations already made.
      await this.#save();
      revokedNow.push(grant.id);
    }
    const left = (await this.#grants()).filter((g) => isGrantActive(g, clock.now()));
    if (left.length > 0) throw new Error(`${left.length} grant(s) still active after revoking: ${left.map((g) => g.id).join(', ')}`);
    await this.#complete('revoke-grants', 'performed', subjectRef, {
      revoked: this.#journal.revokedGrants.map((g) => g.id),
      revokedThisRun: revokedNow,
    });
  }

  async #erase(): Promise<void> {
    const { source, holds } = this.options;
    const { memberId, subjectRef, actor, reason } = this.input;
    if (!hasVerifiedArchive(this.#journal)) {
      await this.#audit('erase', 'refused', subjectRef, { why: 'no verified archive' });
      throw new OffboardingError(
        'E_OFFBOARD_NO_VERIFIED_ARCHIVE',
        `refusing to erase '${memberId}': the journal holds no verified archive. Nothing was erased; this is a bug, please report it with the journal`,
        { step: 'erase' },
      );
    }
    // Checked again here: a hold placed while the export ran must still stop the erasure.
    const standing = legalHoldBlockers(memberId, await holds.activeFor(subjectRef));
    if (standing.length > 0) {
      await this.#audit('erase', 'refused', subjectRef, { holds: standing.map((b) => b.details?.['holdId']) });
      throw new OffboardingError(
        'E_OFFBOARD_LEGAL_HOLD',
        `not erasing '${memberId}':\n${standing.map((b) => `- ${b.message}`).join('\n')}\nThe archive is exported and verified; run again once the hold is released.`,
        { step: 'erase', blockers: standing },
      );
    }
    let how: StepHow = 'performed';
    if (!hasCapability(source, 'erase')) {
      if (this.options.erasedInSource !== true) requireCapability(source, 'erase', { memberId });
      how = 'attested';
    } else {
      const still = await source.findMember(memberId);
      // Gone already: an earlier run erased and stopped before recording it. Not erased twice.
      if (still?.id !== memberId) how = 'found-done';
      else await requireCapability(source, 'erase', { memberId })(memberId, { actor, reason });
    }
    this.#journal = { ...this.#journal, erasedAt: this.options.clock.now().toISOString(), erasure: how };
    await this.#complete('erase', how, subjectRef, { archiveKey: this.#journal.archive?.key ?? null });
  }

  async #fileBackup(): Promise<void> {
    const archive = this.#journal.archive;
    if (archive === undefined) throw new TypeError('the journal holds no archive to file as the backup');
    const { subjectRef, actor, reason } = this.input;
    const result = await this.options.fileBackup({
      key: archive.key,
      subjectRef,
      retentionClass: POST_DELETION_BACKUP_CLASS,
      actor,
      reason,
      ...this.#signal(),
    });
    if (typeof result?.key !== 'string' || result.key === '') throw new TypeError('the file-backup step returned no key');
    this.#journal = {
      ...this.#journal,
      backup: { key: result.key, retentionClass: POST_DELETION_BACKUP_CLASS, filedAt: this.options.clock.now().toISOString() },
    };
    await this.#complete('file-backup', 'performed', result.key, { from: archive.key, retentionClass: POST_DELETION_BACKUP_CLASS });
  }

  // ---- recording

  async #grants(): Promise<Grant[]> {
    const out: Grant[] = [];
    for await (const g of this.options.source.grants(this.input.memberId)) out.push(g);
    return out;
  }

  #signal(): { signal?: AbortSignal } {
    return this.options.signal === undefined ? {} : { signal: this.options.signal };
  }

  /** Audit first, then the journal: a crash in between repeats an idempotent step instead of losing its record. */
  async #complete(step: OffboardingStep, how: StepHow, target: string, details: Record<string, unknown>): Promise<void> {
    await this.#audit(step, 'success', target, { ...details, how });
    this.#journal = markStepDone(this.#journal, step, this.options.clock.now(), this.input.actor, how);
    await this.#save();
  }

  async #save(): Promise<void> {
    try {
      await writeOffboardingJournal(this.options.store, this.#journal, { create: !this.#stored });
      this.#stored = true;
    } catch (err) {
      if (!isExists(err)) throw err;
      throw new OffboardingError(
        'E_OFFBOARD_CONCURRENT',
        `another offboarding of '${this.input.memberId}' started at the same moment; let it finish, then run this command again to see where it stands`,
        { cause: err },
      );
    }
  }

  async #audit(step: OffboardingStep, outcome: AuditOutcome, target: string, details: Record<string, unknown>): Promise<void> {
    await this.options.audit.append({
      actor: this.input.actor,
      action: `offboard.${step}`,
      target,
      subjectRef: this.input.subjectRef,
      reason: this.input.reason,
      outcome,
      details,
    });
  }

  /** For failure records: a failing audit log must not hide the error that brought us here. */
  async #auditQuietly(step: OffboardingStep, outcome: AuditOutcome, target: string, details: Record<string, unknown>): Promise<void> {
    try {
      await this.#audit(step, outcome, target, details);
    } catch {
      // The step's own error is what the caller needs; the audit log's problem will resurface on the next append.
    }
  }
}

function codeOf(err: unknown): { code?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}

function summarize(
  journal: OffboardingJournal,
  memberId: string,
  status: OffboardingSummary['status'],
  resumedFrom: OffboardingStep | undefined,
  ranSteps: OffboardingStep[],
  blockers: Blocker[],
): OffboardingSummary {
  return {
    memberId,
    subjectRef: journal.subjectRef,
    status,
    ...(resumedFrom === undefined ? {} : { resumedFrom }),
    ranSteps,
    blockers,
    ...(journal.force === undefined ? {} : { forced: journal.force }),
    archiveKey: journal.archive?.key ?? '',
    backupKey: journal.backup?.key ?? '',
    revokedGrants: journal.revokedGrants.map((g) => g.id),
    erasedAt: journal.erasedAt ?? '',
    erasure: journal.erasure ?? 'performed',
    journal,
  };
}
