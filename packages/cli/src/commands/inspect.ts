import { existsSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { InputError } from '@handover/core';
import { inspectArchive } from '@handover/exporter';
import { createOutput, formatBytes } from '../output.js';
import type { RunEnv } from '../run-env.js';

export function inspectCommand(env: RunEnv): Command<[string], Record<string, unknown>> {
  return new Command('inspect')
    .description("show an archive's manifest summary without extracting it")
    .argument('<archive>', 'archive file')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (archive, opts) => {
      const out = createOutput(opts.json, env.stdout, env.stderr);
      if (!existsSync(archive)) throw new InputError(`archive '${archive}' does not exist`);
      const s = await inspectArchive(archive);
      out.result(s, () => {
        const c = s.counts;
        return [
          `archive     ${archive}`,
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
    });
}
