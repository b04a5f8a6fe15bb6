import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Command, Option } from '@commander-js/extra-typings';
import { DigestStream, InputError, writeFileAtomic } from '@handover/core';
import { createHtmlView, exportMember } from '@handover/exporter';
import { createContext, openSource, type GlobalOptions } from '../context.js';
import { createOutput, createProgress, formatBytes } from '../output.js';
import type { RunEnv } from '../run-env.js';

export function exportCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  return new Command('export')
    .description("write one member's chats, files and grants as a verified XML archive")
    .requiredOption('--member <id>', 'member id (or username / email where the source has them)')
    .option('--source <source>', 'demo, demo:<seed>, slack:<export.zip|dir>, mattermost:<export.zip|file.jsonl>')
    .option('--out <file>', 'write the archive to this file instead of the store')
    .addOption(new Option('--scope <scope>', 'participant: everything in their conversations; authored: only what they wrote').choices(['participant', 'authored'] as const).default('participant' as const))
    .option('--pseudonymize-others', "replace other people's ids and names by stable pseudonyms", false)
    .option('--include-shared-files', 'include the bytes of files other people posted (participant scope)', false)
    .option('--no-html', 'leave out the human-readable HTML pages')
    .option('--reason <text>', 'why this export is made (recorded in the manifest)')
    .option('--request-id <id>', 'id of the request this export answers (default: a new UUID)')
    .option('--requester <name>', 'who asked for the export (default: the member)')
    .option('--legal-basis <text>', 'legal basis (default: GDPR Art. 15 and Art. 20)')
    .option('--skip-invalid', 'skip invalid items of the source, recording each in the manifest', false)
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const global = cmd.optsWithGlobals() as GlobalOptions;
      const ctx = createContext(global, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const source = openSource(opts.source ?? ctx.config.source ?? 'demo', { skipInvalid: opts.skipInvalid });
      const createdAt = new Date();
      const requestId = opts.requestId ?? undefined;
      const storeDir = resolve(ctx.storeLocation);
      if (!opts.out && ctx.storeLocation.startsWith('s3://')) {
        throw new InputError(`S3 stores are not supported by this build; use a directory for --store, or --out <file>`, { exitCode: 2 });
      }
      const target = opts.out ? resolve(opts.out) : join(storeDir, 'archives', `${stamp(createdAt)}-${randomBytes(4).toString('hex')}.zip`);
      if (opts.out && existsSync(target)) {
        throw new InputError(`'${target}' already exists; choose another --out or remove it first`);
      }

      const progress = createProgress('exporting {member} | {messages} messages | {files} files | {size}', env.stderr);
      try {
        const summary = await exportMember(
          {
            source,
            member: opts.member,
            scope: opts.scope,
            pseudonymizeOthers: opts.pseudonymizeOthers,
            ...(opts.pseudonymizeOthers ? { pseudonymKey: pseudonymKey(storeDir) } : {}),
            includeSharedFiles: opts.includeSharedFiles,
            request: {
              ...(requestId ? { id: requestId } : {}),
              ...(opts.reason ? { reason: opts.reason } : {}),
              ...(opts.requester ? { requester: opts.requester } : {}),
              ...(opts.legalBasis ? { legalBasis: opts.legalBasis } : {}),
            },
            createdAt,
            ...(opts.html ? { htmlView: (resolveFilePath) => createHtmlView({ resolveFilePath }) } : {}),
            onProgress: (p) => progress.update({ member: opts.member, messages: p.messages, files: p.files, size: formatBytes(p.bytes) }),
            signal: env.signal,
          },
          (zip) => writeHashed(zip, target),
        );
        progress.stop();
        const { sha256, bytes } = summary.destination;
        const result = { archive: target, sha256, bytes, counts: summary.counts, request: summary.manifest.request.id };
        out.result(result, () =>
          [
            `archive written: ${target}`,
            `  ${summary.counts.messages} messages in ${summary.counts.conversations} conversations, ${summary.counts.files} files (${summary.counts.filesIncluded} with bytes, ${formatBytes(summary.counts.fileBytes)}), ${summary.counts.grants} grants`,
            `  ${formatBytes(bytes)}, sha256 ${sha256}`,
            ...(summary.counts.replacedCharacters > 0 ? [`  ${summary.counts.replacedCharacters} characters XML cannot carry were replaced by U+FFFD (recorded in the manifest)`] : []),
            `check it with: handover verify ${target}`,
          ].join('\n'),
        );
      } finally {
        progress.stop();
        await source.close?.();
      }
    });
}

async function writeHashed(zip: Readable, target: string): Promise<{ sha256: string; bytes: number }> {
  const digest = new DigestStream();
  zip.on('error', (e) => digest.destroy(e));
  const { bytes } = await writeFileAtomic(target, zip.pipe(digest), { exclusive: true });
  return { sha256: digest.sha256(), bytes };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A per-store secret, so pseudonyms are stable across exports from one store and unguessable elsewhere. */
function pseudonymKey(storeDir: string): Buffer {
  const file = join(storeDir, 'secrets', 'pseudonym.key');
  if (!existsSync(file)) {
    mkdirSync(join(storeDir, 'secrets'), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}
