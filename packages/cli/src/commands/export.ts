import { Command, Option } from '@commander-js/extra-typings';
import { createContext, type GlobalOptions } from '../context.js';
import { runExport, validateExportJob, type ExportJob } from '../export-service.js';
import { createOutput, createProgress, formatBytes } from '../output.js';
import { openConfiguredStore } from '../store-context.js';
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
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const job: ExportJob = {
        member: opts.member,
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.out ? { out: opts.out } : {}),
        scope: opts.scope,
        pseudonymizeOthers: opts.pseudonymizeOthers,
        includeSharedFiles: opts.includeSharedFiles,
        html: opts.html,
        ...(opts.reason ? { reason: opts.reason } : {}),
        ...(opts.requestId ? { requestId: opts.requestId } : {}),
        ...(opts.requester ? { requester: opts.requester } : {}),
        ...(opts.legalBasis ? { legalBasis: opts.legalBasis } : {}),
        class: opts.class,
        recipients: opts.recipient ?? [],
        ...(opts.passphraseFile ? { passphraseFile: opts.passphraseFile } : {}),
        encrypt: opts.encrypt,
        ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}),
        skipInvalid: opts.skipInvalid,
        warn: (t) => out.warn(t),
        signal: env.signal,
      };
      validateExportJob(job);
      const sc = openConfiguredStore(ctx);
      const progress = createProgress('exporting {member} | {messages} messages | {files} files | {size}', env.stderr);
      const r = await runExport(ctx, sc, { ...job, onProgress: (p) => progress.update({ member: p.member, messages: p.messages, files: p.files, size: formatBytes(p.bytes) }) }).finally(() => progress.stop());
      out.result(r, () =>
        [
          `archive written: ${r.archive}`,
          `  ${r.counts.messages} messages in ${r.counts.conversations} conversations, ${r.counts.files} files (${r.counts.filesIncluded} with bytes, ${formatBytes(r.counts.fileBytes)}), ${r.counts.grants} grants`,
          `  ${formatBytes(r.bytes)}, sha256 ${r.sha256}${r.encrypted ? ', encrypted (age v1)' : ', NOT encrypted'}`,
          ...(r.key ? [`  retention: ${r.class}, kept until ${r.retainUntil!.slice(0, 10)}`] : []),
          ...(r.counts.replacedCharacters > 0 ? [`  ${r.counts.replacedCharacters} characters XML cannot carry were replaced by U+FFFD (recorded in the manifest)`] : []),
          `check it with: handover verify ${r.archive}`,
        ].join('\n'),
      );
    });
}
