import { Command } from '@commander-js/extra-typings';
import { inspectArchive, openArchive } from '@handover/exporter';
import { identitiesFor, locateArchive, readSourceOf } from '../archive-ref.js';
import { decryptionOptionsOf, withDecryptionOptions } from '../archive-options.js';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput, formatBytes } from '../output.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

export function inspectCommand(env: RunEnv): Command<[string], Record<string, unknown>> {
  return withDecryptionOptions(
    new Command('inspect')
      .description("show an archive's manifest summary (a file, a store key or s3:// URL; encrypted or not)")
      .argument('<archive>', 'archive file, store key or s3:// URL')
      .option('--json', 'print one JSON document on stdout', false),
  ).action(async (archive, opts, cmd) => {
    const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
    const out = createOutput(opts.json, env.stdout, env.stderr);
    const sc = openConfiguredStore(ctx);
    const loc = locateArchive(archive, ctx, sc);
    const opened = await openArchive(readSourceOf(loc), identitiesFor(loc, ctx, sc, decryptionOptionsOf(opts)));
    try {
      const s = await inspectArchive(opened.path);
      out.result({ archive, encrypted: opened.encrypted, ...s }, () => {
        const c = s.counts;
        return [
          `archive     ${archive}${opened.encrypted ? ' (encrypted, age v1)' : ''}`,
          `format      Handover archive v${s.formatVersion} (${s.generator})`,
          `created     ${s.createdAt}`,
          `source      ${s.source}`,
          `subject     ${s.subject.displayName} (${s.subject.id})`,
          `request     ${s.request.id} (${s.request.scope} scope; ${s.request.legalBasis})`,
          `reason      ${s.request.reason}`,
          `requester   ${s.request.requester}`,
          `contents    ${c['conversations'] ?? 0} conversations, ${c['messages'] ?? 0} messages, ${c['files'] ?? 0} files (${c['filesIncluded'] ?? 0} with bytes, ${formatBytes(c['fileBytes'] ?? 0)}), ${c['grants'] ?? 0} grants, ${c['memberships'] ?? 0} memberships`,
          `entries     ${s.entries}`,
          `replaced    ${s.replacedCharacters} characters XML cannot carry`,
          ...(s.skipped > 0 ? [`skipped     ${s.skipped} invalid source items (listed in manifest.xml)`] : []),
        ].join('\n');
      });
    } finally {
      await opened.cleanup();
    }
  });
}
