import { Command } from '@commander-js/extra-typings';
import { createContext, openSource, type GlobalOptions } from '../context.js';
import { createOutput, table } from '../output.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

export function demoCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  const demo = new Command('demo').description('the built-in demo workspace');
  demo
    .command('members')
    .description('list the demo members, so you know whom to export')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      // Through the store, so that members erased by an offboarding are gone from the list.
      const source = openSource('demo', { store: openConfiguredStore(ctx).store });
      const rows: { id: string; displayName: string; email?: string; roles: string[] }[] = [];
      for await (const m of source.members()) {
        const roles: string[] = [];
        for await (const ms of source.memberships(m.id)) roles.push(`${ms.role}@${ms.organizationName}`);
        rows.push({ id: m.id, displayName: m.displayName, ...(m.email ? { email: m.email } : {}), roles });
      }
      out.result({ source: source.name, members: rows }, () =>
        table(['ID', 'NAME', 'EMAIL', 'MEMBERSHIPS'], rows.map((r) => [r.id, r.displayName, r.email ?? '', r.roles.join(', ')])) +
        `\n\nexport one with: handover export --member ${rows[0]?.id ?? '<id>'}`,
      );
    });
  return demo;
}
