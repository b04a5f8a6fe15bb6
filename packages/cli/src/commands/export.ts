import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Command, Option } from '@commander-js/extra-typings';
import { createEncryptStream, DigestStream, InputError, NotFoundError, writeFileAtomic } from '@handover/core';
import { createHtmlView, exportMember, writeEncryptedArchive } from '@handover/exporter';
import { archiveKey, computeRetainUntil } from '@handover/retention';
import { createContext, openSource, type GlobalOptions } from '../context.js';
import { createOutput, createProgress, formatBytes } from '../output.js';
import { openKeyRing, openConfiguredStore } from '../store-context.js';
import { policiesOf } from '../policies.js';
import { audited, openAudit } from '../audit.js';
import { pseudonymKeyOf } from '../pseudonym-key.js';
import type { RunEnv } from '../run-env.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function exportCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  return new Command('export')
    .description("write one member's chats, files and grants as a verified XML archive, encrypted into the store")
    .requiredOption('--member <id>', 'member id (or username / email where the source has them)')
    .option('--source <source>', 'demo, demo:<seed>, slack:<export.zip|dir>, mattermost:<export.zip|file.jsonl>')
    .option('--out <file>', 'write the archive to this local file instead of the store')
    .addOption(new Option('--scope <scope>', 'participant: everything in their conversations; authored: only what they wrote').choices(['participant', 'authored'] as const).default('participant' as const))
    .option('--pseudonymize-others', "replace other people's ids and names by stable pseudonyms", false)
    .option('--include-shared-files', 'include the bytes of files other people posted (participant scope)', false)
    .option('--no-html', 'leave out the human-readable HTML pages')
    .option('--reason <text>', 'why this export is made (recorded in the manifest)')
    .option('--request-id <id>', 'id of the request this export answers (default: a new UUID)')
    .option('--requester <name>', 'who asked for the export (default: the member)')
    .option('--legal-basis <text>', 'legal basis (default: GDPR Art. 15 and Art. 20)')
    .option('--class <class>', 'retention class of the stored archive', 'export-download')
    .option('--recipient <age1…>', "also encrypt to this age public key (the data subject's own), repeatable", collect)
    .option('--passphrase-file <file>', 'encrypt the --out file with the passphrase in this file only, so the person opens it with `age -d`')
    .option('--no-encrypt', 'write an UNENCRYPTED zip (only with --out)')
    .option('--master-key-file <file>', 'file holding the master key (env HANDOVER_MASTER_KEY)')
    .option('--skip-invalid', 'skip invalid items of the source, recording each in the manifest', false)
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const global = cmd.optsWithGlobals() as GlobalOptions;
      const ctx = createContext(global, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);

      if (!opts.encrypt && !opts.out) {
        throw new InputError('--no-encrypt is allowed only with --out <file>: archives in a store are always encrypted', { exitCode: 2 });
      }
      if (opts.passphraseFile && !opts.out) {
        throw new InputError(
          '--passphrase-file needs --out: age allows a passphrase only as the sole recipient of a file, and a stored archive must stay readable by the key ring; give the person\'s age public key with --recipient instead',
          { exitCode: 2 },
        );
      }
      if (opts.passphraseFile && opts.recipient?.length) {
        throw new InputError('--passphrase-file and --recipient cannot be combined: age allows a passphrase only as the sole recipient of a file', { exitCode: 2 });
      }
      for (const r of opts.recipient ?? []) {
        if (!/^age1[02-9ac-hj-np-z]{58}$/.test(r)) throw new InputError(`--recipient '${r.slice(0, 12)}…' is not an age X25519 public key (age1…)`, { exitCode: 2 });
      }
      const target = opts.out ? resolve(opts.out) : undefined;
      if (target && existsSync(target)) throw new InputError(`'${target}' already exists; choose another --out or remove it first`);

      const sc = openConfiguredStore(ctx);
      const source = openSource(opts.source ?? ctx.config.source ?? 'demo', { skipInvalid: opts.skipInvalid });
      try {
        const member = await source.findMember(opts.member);
        if (!member) {
          throw new NotFoundError(`member '${opts.member}' not found in source '${source.name}'; list members with 'handover demo members' or check the id, username or email`, { code: 'E_MEMBER_NOT_FOUND' });
        }
        const createdAt = new Date();
        const policies = policiesOf(ctx);
        const classes = [opts.class];
        let retainUntil: Date;
        try {
          retainUntil = computeRetainUntil(policies, classes, createdAt);
        } catch {
          throw new InputError(`unknown retention class '${opts.class}': known classes are ${[...policies.keys()].join(', ')}`, { exitCode: 2 });
        }
        const passphrase = opts.passphraseFile ? readPassphrase(opts.passphraseFile) : undefined;
        const needRing = !target || (opts.encrypt && passphrase === undefined);
        const ring = needRing ? await openKeyRing(ctx, sc, { file: opts.masterKeyFile, create: true, onCreated: (f) => out.warn(`created a new master key at ${f}: back it up, without it no archive in this store can be decrypted`) }) : undefined;
        const subjectRef = ring?.subjectRef(member.id);
        const recipients = ring ? [await ring.recipientFor(member.id), ...(opts.recipient ?? [])] : [...(opts.recipient ?? [])];
        const id = randomBytes(8).toString('hex');

        if (target && !opts.encrypt) out.warn(`writing an UNENCRYPTED archive to ${target}: anyone who can read this file can read ${member.displayName}'s data`);

        const pseudonymKey = opts.pseudonymizeOthers ? await pseudonymKeyOf(sc.store) : undefined;
        const key = target ? undefined : archiveKey({ retainUntil, classes, subjectRef: subjectRef!, createdAt, id });
        const progress = createProgress('exporting {member} | {messages} messages | {files} files | {size}', env.stderr);
        const auditEntry = {
          actor: ctx.actor,
          action: 'export',
          target: key ?? target!,
          ...(subjectRef ? { subjectRef } : {}),
          reason: opts.reason ?? 'member-initiated export before account deletion',
          details: { source: source.name, scope: opts.scope, class: opts.class, encrypted: opts.encrypt },
        };
        const summary = await audited(openAudit(sc), auditEntry, () => exportMember(
          {
            source,
            member: member.id,
            scope: opts.scope,
            pseudonymizeOthers: opts.pseudonymizeOthers,
            ...(pseudonymKey ? { pseudonymKey } : {}),
            includeSharedFiles: opts.includeSharedFiles,
            request: {
              ...(opts.requestId ? { id: opts.requestId } : {}),
              ...(opts.reason ? { reason: opts.reason } : {}),
              ...(opts.requester ? { requester: opts.requester } : {}),
              ...(opts.legalBasis ? { legalBasis: opts.legalBasis } : {}),
            },
            createdAt,
            ...(opts.html ? { htmlView: (resolveFilePath) => createHtmlView({ resolveFilePath }) } : {}),
            onProgress: (p) => progress.update({ member: member.id, messages: p.messages, files: p.files, size: formatBytes(p.bytes) }),
            signal: env.signal,
          },
          async (zip) => {
            if (!key) return writeLocal(zip, target!, opts.encrypt ? { recipients, passphrase } : undefined);
            const w = await writeEncryptedArchive(sc.store, key, zip, { recipients, retention: { classes, createdAt, retainUntil, subjectRef: subjectRef! }, signal: env.signal });
            return { location: sc.kind === 'fs' ? resolve(sc.root!, key) : `${ctx.storeLocation.replace(/\/+$/, '')}/${key}`, key, bytes: w.bytes, sha256: w.sha256, zipSha256: w.zipSha256 };
          },
        ), (s) => ({ sha256: s.destination.sha256, bytes: s.destination.bytes, messages: s.counts.messages, files: s.counts.files, grants: s.counts.grants })).finally(() => progress.stop());

        const d = summary.destination;
        const result = {
          archive: d.location,
          sha256: d.sha256,
          bytes: d.bytes,
          counts: summary.counts,
          encrypted: opts.encrypt,
          ...(d.key ? { key: d.key, store: ctx.storeLocation, class: opts.class, retainUntil: retainUntil.toISOString() } : {}),
          zipSha256: d.zipSha256,
          request: summary.manifest.request.id,
          ...(subjectRef ? { subjectRef } : {}),
        };
        out.result(result, () =>
          [
            `archive written: ${d.location}`,
            `  ${summary.counts.messages} messages in ${summary.counts.conversations} conversations, ${summary.counts.files} files (${summary.counts.filesIncluded} with bytes, ${formatBytes(summary.counts.fileBytes)}), ${summary.counts.grants} grants`,
            `  ${formatBytes(d.bytes)}, sha256 ${d.sha256}${opts.encrypt ? ', encrypted (age v1)' : ', NOT encrypted'}`,
            ...(d.key ? [`  retention: ${opts.class}, kept until ${retainUntil.toISOString().slice(0, 10)}`] : []),
            ...(summary.counts.replacedCharacters > 0 ? [`  ${summary.counts.replacedCharacters} characters XML cannot carry were replaced by U+FFFD (recorded in the manifest)`] : []),
            `check it with: handover verify ${d.location}`,
          ].join('\n'),
        );
      } finally {
        await source.close?.();
      }
    });
}

interface LocalResult {
  location: string;
  key?: undefined;
  bytes: number;
  sha256: string;
  zipSha256: string;
}

async function writeLocal(zip: Readable, target: string, encryption: { recipients: string[]; passphrase: string | undefined } | undefined): Promise<LocalResult> {
  const plain = new DigestStream();
  const final = new DigestStream();
  zip.on('error', (e) => final.destroy(e));
  let body: Readable = zip.pipe(plain);
  if (encryption) {
    const enc = createEncryptStream(encryption.passphrase !== undefined ? { passphrase: encryption.passphrase } : { recipients: encryption.recipients });
    plain.on('error', (e) => final.destroy(e));
    enc.on('error', (e) => final.destroy(e));
    body = body.pipe(enc);
  }
  const { bytes } = await writeFileAtomic(target, body.pipe(final), { exclusive: true, mode: 0o600 });
  return { location: target, bytes, sha256: final.sha256(), zipSha256: plain.sha256() };
}

function readPassphrase(file: string): string {
  if (!existsSync(file)) throw new InputError(`passphrase file '${file}' does not exist`);
  const text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (text.length < 8) throw new InputError(`the passphrase in '${file}' is shorter than 8 characters`);
  return text;
}
