import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createEncryptStream, DigestStream, InputError, NotFoundError, writeFileAtomic } from '@handover/core';
import { createHtmlView, exportMember, writeEncryptedArchive, type ExportProgress, type ManifestCounts, type Source } from '@handover/exporter';
import { archiveKey, computeRetainUntil, holdIfCovered, HoldRegistry } from '@handover/retention';
import { audited, openAudit } from './audit.js';
import { openSource, type CommandContext } from './context.js';
import { policiesOf } from './policies.js';
import { pseudonymKeyOf } from './pseudonym-key.js';
import { openKeyRing, type StoreContext } from './store-context.js';

/** Everything `handover export` can be asked; also what offboarding, requests and batches reuse. */
export interface ExportJob {
  /** Member id, username or email. */
  member: string;
  /** A source spec (`demo`, `slack:…`), or an open source to reuse. */
  source?: string | Source;
  /** Write this local file instead of the store. */
  out?: string;
  scope?: 'participant' | 'authored';
  pseudonymizeOthers?: boolean;
  includeSharedFiles?: boolean;
  html?: boolean;
  reason?: string;
  requestId?: string;
  requester?: string;
  legalBasis?: string;
  /** Retention class of a stored archive. Default `export-download`. */
  class?: string;
  /** Extra age recipients (the data subject's own key). */
  recipients?: readonly string[];
  /** With `out`: encrypt to this passphrase only. */
  passphraseFile?: string;
  /** With `out` only: false writes a plain zip. Default true. */
  encrypt?: boolean;
  masterKeyFile?: string;
  skipInvalid?: boolean;
  onProgress?: (p: ExportProgress & { member: string }) => void;
  /** Told about things the user must know (a new master key, an unencrypted file). */
  warn?: (text: string) => void;
  signal?: AbortSignal;
}

export interface ExportOutcome {
  /** A local path or an s3:// URL. */
  archive: string;
  /** The store key, for stored archives. */
  key?: string;
  sha256: string;
  bytes: number;
  zipSha256: string;
  counts: ManifestCounts & { replacedCharacters: number };
  encrypted: boolean;
  class?: string;
  retainUntil?: string;
  /** The legal hold that covered the new archive, whose storage hold was taken right after writing it. */
  heldBy?: string;
  request: string;
  memberId: string;
  subjectRef?: string;
}

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** Checks an export job's flags before anything is opened. Usage errors exit 2. */
export function validateExportJob(job: ExportJob): void {
  const encrypt = job.encrypt ?? true;
  if (!encrypt && !job.out) {
    throw new InputError('--no-encrypt is allowed only with --out <file>: archives in a store are always encrypted', { exitCode: 2 });
  }
  if (job.passphraseFile && !job.out) {
    throw new InputError(
      "--passphrase-file needs --out: age allows a passphrase only as the sole recipient of a file, and a stored archive must stay readable by the key ring; give the person's age public key with --recipient instead",
      { exitCode: 2 },
    );
  }
  if (job.passphraseFile && job.recipients?.length) {
    throw new InputError('--passphrase-file and --recipient cannot be combined: age allows a passphrase only as the sole recipient of a file', { exitCode: 2 });
  }
  for (const r of job.recipients ?? []) {
    if (!AGE_RECIPIENT.test(r)) throw new InputError(`--recipient '${r.slice(0, 12)}…' is not an age X25519 public key (age1…)`, { exitCode: 2 });
  }
  if (job.out && existsSync(resolve(job.out))) throw new InputError(`'${resolve(job.out)}' already exists; choose another --out or remove it first`);
}

/**
 * One member's export, end to end: find the member, stream the archive, encrypt it to
 * the subject's key (and any extra recipients), store it under the retention key scheme
 * with its metadata, and record it in the audit log.
 */
export async function runExport(ctx: CommandContext, sc: StoreContext, job: ExportJob): Promise<ExportOutcome> {
  validateExportJob(job);
  const encrypt = job.encrypt ?? true;
  const cls = job.class ?? 'export-download';
  const target = job.out ? resolve(job.out) : undefined;
  const owned = typeof job.source !== 'object';
  const source = typeof job.source === 'object' ? job.source : openSource(job.source ?? ctx.config.source ?? 'demo', { skipInvalid: job.skipInvalid ?? false, store: sc.store });
  try {
    const member = await source.findMember(job.member);
    if (!member) {
      throw new NotFoundError(`member '${job.member}' not found in source '${source.name}'; list members with 'handover demo members' or check the id, username or email`, { code: 'E_MEMBER_NOT_FOUND' });
    }
    const createdAt = new Date();
    const policies = policiesOf(ctx);
    const classes = [cls];
    let retainUntil: Date;
    try {
      retainUntil = computeRetainUntil(policies, classes, createdAt);
    } catch {
      throw new InputError(`unknown retention class '${cls}': known classes are ${[...policies.keys()].join(', ')}`, { exitCode: 2 });
    }
    const passphrase = job.passphraseFile ? readPassphrase(job.passphraseFile) : undefined;
    const needRing = !target || (encrypt && passphrase === undefined);
    const ring = needRing
      ? await openKeyRing(ctx, sc, { ...(job.masterKeyFile ? { file: job.masterKeyFile } : {}), create: true, onCreated: (f) => job.warn?.(`created a new master key at ${f}: back it up, without it no archive in this store can be decrypted`) })
      : undefined;
    const subjectRef = ring?.subjectRef(member.id);
    const recipients = ring ? [await ring.recipientFor(member.id), ...(job.recipients ?? [])] : [...(job.recipients ?? [])];
    const pseudonymKey = job.pseudonymizeOthers ? await pseudonymKeyOf(sc.store) : undefined;
    const key = target ? undefined : archiveKey({ retainUntil, classes, subjectRef: subjectRef!, createdAt, id: randomBytes(8).toString('hex') });
    if (target && !encrypt) job.warn?.(`writing an UNENCRYPTED archive to ${target}: anyone who can read this file can read ${member.displayName}'s data`);

    let heldBy: string | undefined; // set inside the write callback
    const reason = job.reason ?? 'member-initiated export before account deletion';
    const entry = {
      actor: ctx.actor,
      action: 'export',
      target: key ?? target!,
      ...(subjectRef ? { subjectRef } : {}),
      reason,
      details: { source: source.name, scope: job.scope ?? 'participant', class: cls, encrypted: encrypt, ...(job.requestId ? { request: job.requestId } : {}) },
    };
    const summary = await audited(
      openAudit(sc),
      entry,
      () =>
        exportMember(
          {
            source,
            member: member.id,
            scope: job.scope ?? 'participant',
            pseudonymizeOthers: job.pseudonymizeOthers ?? false,
            ...(pseudonymKey ? { pseudonymKey } : {}),
            includeSharedFiles: job.includeSharedFiles ?? false,
            request: {
              ...(job.requestId ? { id: job.requestId } : {}),
              reason,
              ...(job.requester ? { requester: job.requester } : {}),
              ...(job.legalBasis ? { legalBasis: job.legalBasis } : {}),
            },
            createdAt,
            ...((job.html ?? true) ? { htmlView: (resolveFilePath) => createHtmlView({ resolveFilePath }) } : {}),
            ...(job.onProgress ? { onProgress: (p: ExportProgress) => job.onProgress!({ ...p, member: member.id }) } : {}),
            ...(job.signal ? { signal: job.signal } : {}),
          },
          async (zip) => {
            if (!key) return writeLocal(zip, target!, encrypt ? { recipients, passphrase } : undefined);
            const w = await writeEncryptedArchive(sc.store, key, zip, { recipients, retention: { classes, createdAt, retainUntil, subjectRef: subjectRef! }, ...(job.signal ? { signal: job.signal } : {}) });
            // Holds are read AFTER the write: either this read sees a hold placed meanwhile, or
            // that hold was placed later and its own listing of archives/ sees this archive.
            const held = await holdIfCovered(sc.store, key, subjectRef, await new HoldRegistry(sc.store).active(), Date.now());
            if (held !== undefined) {
              heldBy = held.hold.id;
              if (held.storage.failed.length > 0) {
                job.warn?.(`${key} is under legal hold ${held.hold.id}, but taking the storage's hold on it failed (${held.storage.failed[0]!.message}); run 'handover hold sync-storage' to repair`);
              }
            }
            return { location: sc.kind === 'fs' ? resolve(sc.root!, key) : `${ctx.storeLocation.replace(/\/+$/, '')}/${key}`, bytes: w.bytes, sha256: w.sha256, zipSha256: w.zipSha256 };
          },
        ),
      (s) => ({ sha256: s.destination.sha256, bytes: s.destination.bytes, messages: s.counts.messages, files: s.counts.files, grants: s.counts.grants }),
    );
    const d = summary.destination;
    return {
      archive: d.location,
      ...(key ? { key, class: cls, retainUntil: retainUntil.toISOString() } : {}),
      ...(heldBy ? { heldBy } : {}),
      sha256: d.sha256,
      bytes: d.bytes,
      zipSha256: d.zipSha256,
      counts: summary.counts,
      encrypted: encrypt,
      request: summary.manifest.request.id,
      memberId: member.id,
      ...(subjectRef ? { subjectRef } : {}),
    };
  } finally {
    if (owned) await source.close?.();
  }
}

async function writeLocal(zip: Readable, target: string, encryption: { recipients: string[]; passphrase: string | undefined } | undefined): Promise<{ location: string; bytes: number; sha256: string; zipSha256: string }> {
  // 1 MiB buffers: the zip keeps being produced while the previous megabyte is being written.
  const plain = new DigestStream({ highWaterMark: 1 << 20 });
  if (!encryption) {
    // Unencrypted, the file is the zip: one hash serves as both.
    zip.on('error', (e) => plain.destroy(e));
    const { bytes } = await writeFileAtomic(target, zip.pipe(plain), { exclusive: true, mode: 0o600 });
    return { location: target, bytes, sha256: plain.sha256(), zipSha256: plain.sha256() };
  }
  const final = new DigestStream({ highWaterMark: 1 << 20 });
  zip.on('error', (e) => final.destroy(e));
  const enc = createEncryptStream(encryption.passphrase !== undefined ? { passphrase: encryption.passphrase } : { recipients: encryption.recipients });
  plain.on('error', (e) => final.destroy(e));
  enc.on('error', (e) => final.destroy(e));
  const body: Readable = zip.pipe(plain).pipe(enc);
  const { bytes } = await writeFileAtomic(target, body.pipe(final), { exclusive: true, mode: 0o600 });
  return { location: target, bytes, sha256: final.sha256(), zipSha256: plain.sha256() };
}

function readPassphrase(file: string): string {
  if (!existsSync(file)) throw new InputError(`passphrase file '${file}' does not exist`);
  const text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (text.length < 8) throw new InputError(`the passphrase in '${file}' is shorter than 8 characters`);
  return text;
}
