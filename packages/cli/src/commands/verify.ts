import { existsSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { HandoverError, InputError } from '@handover/core';
import { verifyArchive } from '@handover/exporter';
import { createOutput, formatBytes } from '../output.js';
import type { RunEnv } from '../run-env.js';

/** Verification failed: the archive is not what its manifest says. Exit 1. */
export class VerificationFailedError extends HandoverError {
  constructor(archive: string, problems: number) {
    super('E_VERIFY_FAILED', `'${archive}' failed verification: ${problems} problem${problems === 1 ? '' : 's'}`, { reported: true });
  }
}

export function verifyCommand(env: RunEnv): Command<[string], Record<string, unknown>> {
  return new Command('verify')
    .description('check an archive: zip, sizes, SHA-256, XSD validity and counts of every entry')
    .argument('<archive>', 'archive file')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (archive, opts) => {
      const out = createOutput(opts.json, env.stdout, env.stderr);
      if (!existsSync(archive)) throw new InputError(`archive '${archive}' does not exist`);
      const report = await verifyArchive(archive);
      out.result(report, () => {
        if (report.ok) {
          const c = report.summary?.counts ?? {};
          return `OK ${archive}: ${report.entries} entries (${formatBytes(report.bytes)}), ${report.documents} XML documents valid; ${c['messages'] ?? 0} messages, ${c['files'] ?? 0} files, ${c['grants'] ?? 0} grants`;
        }
        return [`FAILED ${archive}:`, ...report.problems.map((p) => `  ${p.entry ?? '(archive)'}: ${p.message} [${p.code}]`)].join('\n');
      });
      if (!report.ok) throw new VerificationFailedError(archive, report.problems.length);
    });
}
