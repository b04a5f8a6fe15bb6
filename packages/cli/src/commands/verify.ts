import { Command } from '@commander-js/extra-typings';
import { HandoverError } from '@handover/core';
import { openArchive, verifyArchive } from '@handover/exporter';
import { identitiesFor, locateArchive, readSourceOf } from '../archive-ref.js';
import { decryptionOptionsOf, withDecryptionOptions } from '../archive-options.js';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput, formatBytes } from '../output.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

/** Verification failed: the archive is not what its manifest says. Exit 1. */
export class VerificationFailedError extends HandoverError {
  constructor(archive: string, problems: number) {
    super('E_VERIFY_FAILED', `'${archive}' failed verification: ${problems} problem${problems === 1 ? '' : 's'}`, { reported: true });
  }
}

export function verifyCommand(env: RunEnv): Command<[string], Record<string, unknown>> {
  return withDecryptionOptions(
    new Command('verify')
      .description('check an archive (a file, a store key or s3:// URL; encrypted or not): zip, sizes, SHA-256, XSD validity and counts of every entry')
      .argument('<archive>', 'archive file, store key or s3:// URL')
      .option('--json', 'print one JSON document on stdout', false),
  ).action(async (archive, opts, cmd) => {
    const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
    const out = createOutput(opts.json, env.stdout, env.stderr);
    const sc = openConfiguredStore(ctx);
    const loc = locateArchive(archive, ctx, sc);
    const opened = await openArchive(readSourceOf(loc), identitiesFor(loc, ctx, sc, decryptionOptionsOf(opts)));
    try {
      const report = { ...(await verifyArchive(opened.path)), archive, encrypted: opened.encrypted };
      out.result(report, () => {
        if (report.ok) {
          const c = report.summary?.counts ?? {};
          return `OK ${archive}${opened.encrypted ? ' (decrypted)' : ''}: ${report.entries} entries (${formatBytes(report.bytes)}), ${report.documents} XML documents valid; ${c['messages'] ?? 0} messages, ${c['files'] ?? 0} files, ${c['grants'] ?? 0} grants`;
        }
        return [`FAILED ${archive}:`, ...report.problems.map((p) => `  ${p.entry ?? '(archive)'}: ${p.message} [${p.code}]`)].join('\n');
      });
      if (!report.ok) throw new VerificationFailedError(archive, report.problems.length);
    } finally {
      await opened.cleanup();
    }
  });
}
