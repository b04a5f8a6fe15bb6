import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { DigestStream, HandoverError, InputError, systemClock, type AuditLog, type KeyRing } from '@handover/core';
import { ARCHIVE_META, openArchive, requireCapability, verifyArchive, type ExportProgress, type Source } from '@handover/exporter';
import {
  checkOffboarding,
  holdLookup,
  isStepDone,
  offboard,
  OffboardingError,
  POST_DELETION_BACKUP_CLASS,
  readOffboardingJournal,
  type BlockerReport,
  type OffboardingEvent,
  type OffboardingJournal,
  type OffboardingSummary,
} from '@handover/offboarding';
import { HoldRegistry, parseArchiveKey } from '@handover/retention';
import { identitiesFor, readSourceOf, type ArchiveLocation } from './archive-ref.js';
import { openAudit } from './audit.js';
import { openSource, type CommandContext } from './context.js';
import { runExport, type ExportOutcome } from './export-service.js';
import type { Output } from './output.js';
import type { RunEnv } from './run-env.js';
import { openKeyRing, type StoreContext } from './store-context.js';

/*
 * The wiring of `handover offboard`, `request fulfil` (erasure) and `batch offboard`
 * around @handover/offboarding's offboard(): the library orders the steps, journals and
 * audits them; this file gives it the real exporter, verifier and store.
 *
 * - export: runExport with retention class post-deletion-backup. The export IS the backup:
 *   the archive key scheme files it under that class from the moment it is written, so the
 *   later file-backup step checks that the verified archive is there, under that class,
 *   and records it (no copy, so the backup is the very object that was verified).
 * - verify: reads the stored object back, checks its SHA-256 against the one the export
 *   recorded in the journal, decrypts it as a stream with the subject's key and verifies
 *   the zip, every XML document against the XSD, sizes and hashes of every entry.
 */

/** Test-only switch: SIGKILL this process right after the named step is journaled. */
export const CRASH_AFTER_ENV = 'HANDOVER_TEST_CRASH_AFTER';
/**
 * Test-only switch: SIGKILL this process inside the named step, after its work and before
 * its journal entry (`export`: archive stored; `revoke-grants`: first grant revoked;
 * `erase`: member erased in the source).
 */
export const CRASH_IN_ENV = 'HANDOVER_TEST_CRASH_IN';

function crashIfAsked(env: NodeJS.ProcessEnv, variable: string, step: string): void {
  if (env[variable] === step) process.kill(process.pid, 'SIGKILL');
}

export interface OffboardJob {
  /** Member id, username or email (after erasure, only the id finds the journal). */
  member: string;
  reason: string;
  /** A source spec; default the config's source, then `demo`. */
  source?: string;
  force?: boolean;
  forceReason?: string;
  /** Called when erasure still lies ahead; resolve true to go on. */
  confirm: (info: { memberId: string; sourceName: string }) => Promise<boolean>;
  erasedInSource?: boolean;
  masterKeyFile?: string;
  /** The data-subject request this offboarding answers (recorded in the archive's manifest). */
  requestId?: string;
  requester?: string;
  legalBasis?: string;
  signal?: AbortSignal;
  onEvent?: (event: OffboardingEvent) => void;
  onExportProgress?: (p: ExportProgress & { member: string }) => void;
  warn?: (text: string) => void;
}

export interface OffboardOutcome extends Omit<OffboardingSummary, 'journal'> {
  source: string;
  /** The archive's retention: kept until this day (UTC) as the post-deletion backup. */
  backupRetainUntil?: string;
  /** Details of the export, when this run made it. */
  export?: Pick<ExportOutcome, 'sha256' | 'bytes' | 'counts'>;
  steps: OffboardingJournal['steps'];
}

/** Thrown by a `confirm` that got a different answer than the member id. */
export function notConfirmed(memberId: string): InputError {
  return new InputError(`confirmation did not match '${memberId}': nothing was done`, { code: 'E_OFFBOARD_NOT_CONFIRMED', exitCode: 2 });
}

/**
 * Asks on the terminal: "type the member id to confirm". Without a terminal, refuses with
 * a usage error that explains --yes.
 */
export async function confirmOnTerminal(env: RunEnv, question: string, expected: string, what: string): Promise<boolean> {
  const stdin = process.stdin;
  if (!stdin.isTTY || !env.stderr.isTTY) {
    throw new InputError(`${what} cannot be undone, and there is no terminal to confirm on: pass --yes to confirm`, {
      code: 'E_OFFBOARD_NOT_CONFIRMED',
      exitCode: 2,
    });
  }
  const rl = createInterface({ input: stdin, output: env.stderr, terminal: true });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const onAbort = (): void => reject(env.signal.reason ?? new Error('interrupted'));
      env.signal.addEventListener('abort', onAbort, { once: true });
      rl.question(question, (a) => {
        env.signal.removeEventListener('abort', onAbort);
        resolve(a);
      });
    });
    return answer.trim() === expected;
  } finally {
    rl.close();
  }
}

/** What every offboarding needs once per process: the key ring, the audit log, the holds. */
export interface OffboardDeps {
  ring: KeyRing;
  audit: AuditLog;
  holds: ReturnType<typeof holdLookup>;
}

export async function openOffboardDeps(ctx: CommandContext, sc: StoreContext, options: { masterKeyFile?: string; create?: boolean; warn?: (t: string) => void } = {}): Promise<OffboardDeps> {
  const ring = await openKeyRing(ctx, sc, {
    ...(options.masterKeyFile ? { file: options.masterKeyFile } : {}),
    create: options.create ?? false,
    onCreated: (f) => options.warn?.(`created a new master key at ${f}: back it up, without it no archive in this store can be decrypted`),
  });
  const audit = openAudit(sc);
  return { ring, audit, holds: holdLookup(new HoldRegistry(sc.store, { clock: systemClock, audit }), systemClock) };
}

function sourceSpec(ctx: CommandContext, spec: string | undefined): string {
  return spec ?? ctx.config.source ?? 'demo';
}

/** `offboard --check`: the blockers, changing nothing. */
export async function checkMember(ctx: CommandContext, sc: StoreContext, options: { member: string; source?: string; masterKeyFile?: string }): Promise<BlockerReport & { source: string }> {
  const deps = await openOffboardDeps(ctx, sc, options.masterKeyFile ? { masterKeyFile: options.masterKeyFile } : {});
  const source = openSource(sourceSpec(ctx, options.source), { store: sc.store });
  try {
    const report = await checkOffboarding({ memberId: options.member, source, keyRing: deps.ring, holds: deps.holds, clock: systemClock });
    return { ...report, source: source.name };
  } finally {
    await source.close?.();
  }
}

/** The journal of the member's offboarding, if one was started. */
export async function journalOf(sc: StoreContext, ring: Pick<KeyRing, 'subjectRef'>, source: Source, member: string): Promise<{ memberId: string; found: boolean; journal: OffboardingJournal | undefined }> {
  const found = await source.findMember(member);
  const memberId = found?.id ?? member;
  return { memberId, found: found !== undefined, journal: await readOffboardingJournal(sc.store, ring.subjectRef(memberId)) };
}

/**
 * One member's offboarding, or the continuation of one an earlier run started. The source
 * is opened for this member only, on the store's demo state, so the export and the
 * erasure see the same workspace.
 */
export async function runOffboard(ctx: CommandContext, sc: StoreContext, job: OffboardJob, deps?: OffboardDeps): Promise<OffboardOutcome> {
  const d = deps ?? (await openOffboardDeps(ctx, sc, { ...(job.masterKeyFile ? { masterKeyFile: job.masterKeyFile } : {}), create: true, ...(job.warn ? { warn: job.warn } : {}) }));
  const opened = openSource(sourceSpec(ctx, job.source), { store: sc.store });
  const source = testCrashSource(opened, ctx.env);
  try {
    const { memberId, found, journal } = await journalOf(sc, d.ring, source, job.member);
    // Nothing to confirm when erasure is behind us, or when there is nobody to erase (offboard() then says so).
    const ask = journal === undefined ? found : !isStepDone(journal, 'erase');
    // A read-only source is refused up front, naming the source and saying how to erase in the platform instead.
    if (ask && job.erasedInSource !== true) requireCapability(source, 'erase', { memberId });
    const confirmed = ask ? await job.confirm({ memberId, sourceName: source.name }) : journal !== undefined;
    if (ask && !confirmed) throw notConfirmed(memberId);

    let exported: ExportOutcome | undefined;
    const summary = await offboard({
      memberId: job.member,
      reason: job.reason,
      actor: ctx.actor,
      ...(job.force ? { force: true } : {}),
      ...(job.forceReason !== undefined ? { forceReason: job.forceReason } : {}),
      confirmed,
      ...(job.erasedInSource ? { erasedInSource: true } : {}),
      source,
      store: sc.store,
      keyRing: d.ring,
      audit: d.audit,
      clock: systemClock,
      holds: d.holds,
      ...(job.signal ? { signal: job.signal } : {}),
      exportToStore: async ({ memberId: id, reason, signal }) => {
        exported = await runExport(ctx, sc, {
          member: id,
          source,
          class: POST_DELETION_BACKUP_CLASS,
          reason,
          html: true,
          ...(job.requestId ? { requestId: job.requestId } : {}),
          ...(job.requester ? { requester: job.requester } : {}),
          legalBasis: job.legalBasis ?? 'GDPR Art. 17 (right to erasure): the member\'s data, kept as the post-deletion backup',
          ...(job.masterKeyFile ? { masterKeyFile: job.masterKeyFile } : {}),
          ...(job.onExportProgress ? { onProgress: job.onExportProgress } : {}),
          ...(job.warn ? { warn: job.warn } : {}),
          ...(signal ? { signal } : {}),
        });
        crashIfAsked(ctx.env, CRASH_IN_ENV, 'export');
        return { key: exported.key!, sha256: exported.sha256, bytes: exported.bytes };
      },
      verifyStored: ({ key, subjectRef }) => verifyStoredArchive(ctx, sc, key, subjectRef, job.masterKeyFile),
      fileBackup: async ({ key, retentionClass }) => fileBackup(sc, key, retentionClass),
      onEvent: (e) => {
        job.onEvent?.(e);
        if (e.status === 'done') crashIfAsked(ctx.env, CRASH_AFTER_ENV, e.step);
      },
    });
    const { journal: final, ...rest } = summary;
    const parsed = summary.backupKey ? parseArchiveKey(summary.backupKey) : undefined;
    return {
      ...rest,
      source: source.name,
      ...(parsed ? { backupRetainUntil: new Date(parsed.retainUntilDay).toISOString().slice(0, 10) } : {}),
      ...(exported ? { export: { sha256: exported.sha256, bytes: exported.bytes, counts: exported.counts } } : {}),
      steps: final.steps,
    };
  } finally {
    await opened.close?.();
  }
}

/**
 * Reads the stored archive back as the offboarding's verify step: the stored bytes must be
 * those the export wrote (SHA-256 from the journal), the key must be the subject's, and the
 * decrypted zip must pass `verifyArchive`.
 */
async function verifyStoredArchive(ctx: CommandContext, sc: StoreContext, key: string, subjectRef: string, masterKeyFile: string | undefined): Promise<{ ok: boolean; problems: string[] }> {
  const problems: string[] = [];
  const parsed = parseArchiveKey(key);
  if (parsed === undefined) problems.push(`'${key}' is not an archive key of the store`);
  else if (parsed.subjectRef !== subjectRef) problems.push(`'${key}' belongs to subject ref ${parsed.subjectRef}, not ${subjectRef}`);
  const info = await sc.store.head(key);
  if (info === undefined) return { ok: false, problems: [...problems, `'${key}' is not in the store`] };
  if (info.metadata[ARCHIVE_META.subjectRef] !== undefined && info.metadata[ARCHIVE_META.subjectRef] !== subjectRef) {
    problems.push(`the metadata of '${key}' names another subject`);
  }
  const expected = (await readOffboardingJournal(sc.store, subjectRef))?.archive?.sha256;

  const loc: ArchiveLocation = { kind: 'object', store: sc.store, key, name: key };
  const base = readSourceOf(loc);
  let last: DigestStream | undefined;
  const digesting = {
    name: base.name,
    open: async (): Promise<Readable> => {
      const raw = await base.open();
      const digest = new DigestStream();
      raw.on('error', (e) => digest.destroy(e));
      // openArchive destroys the stream it peeks at: let go of the object too.
      digest.on('close', () => raw.destroy());
      last = digest;
      return raw.pipe(digest);
    },
  };
  let opened: Awaited<ReturnType<typeof openArchive>>;
  try {
    opened = await openArchive(digesting, identitiesFor(loc, ctx, sc, masterKeyFile ? { masterKeyFile } : {}));
  } catch (err) {
    // A damaged object (or one not encrypted to the subject) fails verification, so the next run exports afresh;
    // anything else (the store unreachable, no master key) stops the step, to be retried as it is.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && DAMAGED.has(code)) return { ok: false, problems: [...problems, `${(err as Error).message} [${code}]`] };
    throw err;
  }
  try {
    if (!opened.encrypted) problems.push(`'${key}' is stored unencrypted`);
    if (expected !== undefined && last !== undefined && last.sha256() !== expected) {
      problems.push(`the stored bytes have SHA-256 ${last.sha256()}, not ${expected} as exported`);
    }
    const report = await verifyArchive(opened.path);
    for (const p of report.problems) problems.push(`${p.entry ?? '(archive)'}: ${p.message} [${p.code}]`);
  } finally {
    await opened.cleanup();
  }
  return { ok: problems.length === 0, problems };
}

/** Decryption errors that mean the stored object is not the archive that was written (see @handover/core's age errors). */
const DAMAGED = new Set(['E_AGE_HEADER', 'E_AGE_HEADER_MAC', 'E_AGE_PAYLOAD', 'E_AGE_CHUNK_AUTH', 'E_AGE_TRUNCATED', 'E_AGE_TRAILING_DATA', 'E_AGE_NO_MATCH']);

/**
 * The file-backup step. The archive was written under the post-deletion-backup class (the
 * class is part of its key), so filing it means checking it is still there, under that
 * class, and handing its key back for the journal and the audit log. Idempotent.
 */
async function fileBackup(sc: StoreContext, key: string, retentionClass: string): Promise<{ key: string }> {
  const parsed = parseArchiveKey(key);
  if (parsed === undefined || !parsed.classes.includes(retentionClass)) {
    throw new Error(`the verified archive '${key}' is not filed under retention class ${retentionClass}`);
  }
  const info = await sc.store.head(key);
  if (info === undefined) throw new Error(`the verified archive '${key}' is no longer in the store`);
  return { key };
}

/**
 * With HANDOVER_TEST_CRASH_IN=revoke-grants|erase (tests only), a source that kills the
 * process right after the first revocation or the erasure, before the journal records it.
 */
function testCrashSource(source: Source, env: NodeJS.ProcessEnv): Source {
  const step = env[CRASH_IN_ENV];
  const caps = source.capabilities;
  if ((step !== 'revoke-grants' && step !== 'erase') || caps === undefined) return source;
  const wrapped: Source = {
    name: source.name,
    members: () => source.members(),
    findMember: (s) => source.findMember(s),
    memberships: (id) => source.memberships(id),
    conversations: (id) => source.conversations(id),
    messages: (c) => source.messages(c),
    grants: (id) => source.grants(id),
    capabilities: {
      ...(caps.blockers ? { blockers: (id: string) => caps.blockers!(id) } : {}),
      ...(caps.revokeGrant
        ? {
            revokeGrant: async (id: string, grant: string, c: { actor: string; reason: string }) => {
              const g = await caps.revokeGrant!(id, grant, c);
              crashIfAsked(env, CRASH_IN_ENV, 'revoke-grants');
              return g;
            },
          }
        : {}),
      ...(caps.erase
        ? {
            erase: async (id: string, c: { actor: string; reason: string }) => {
              await caps.erase!(id, c);
              crashIfAsked(env, CRASH_IN_ENV, 'erase');
            },
          }
        : {}),
    },
  };
  return wrapped;
}

/** With --json, a refusal's blockers go into the one JSON document; the error then only sets the exit code. */
export function reportRefusal(err: unknown, out: Output): unknown {
  if (!(err instanceof OffboardingError) || !out.json) return err;
  out.result(
    { error: { code: err.code, message: err.message, ...(err.step ? { step: err.step } : {}), blockers: err.blockers } },
    () => '',
  );
  return new HandoverError(err.code, err.message, { reported: true, exitCode: err.exitCode, cause: err });
}
