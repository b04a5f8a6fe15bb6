import { Command, CommanderError } from '@commander-js/extra-typings';
import { exportCommand } from './commands/export.js';
import { verifyCommand } from './commands/verify.js';
import { inspectCommand } from './commands/inspect.js';
import { demoCommand } from './commands/demo.js';
import { decryptCommand } from './commands/decrypt.js';
import { keysCommand } from './commands/keys.js';
import { shareCommand } from './commands/share.js';
import { holdCommand } from './commands/hold.js';
import { retentionCommand } from './commands/retention.js';
import { auditCommand } from './commands/audit.js';
import { workerCommand } from './commands/worker.js';
import { offboardCommand } from './commands/offboard.js';
import { requestCommand } from './commands/request.js';
import { batchCommand } from './commands/batch.js';
import type { RunEnv } from './run-env.js';

export const VERSION = '0.1.0';

export function buildProgram(env: RunEnv): Command {
  const program = new Command('handover')
    .description('Export before deletion: verified XML archives of a member\'s chats, files and grants; encrypted storage and retention.')
    .version(VERSION)
    .option('--store <location>', 'store directory or s3://bucket/prefix (env HANDOVER_STORE; default ./handover-data)')
    .option('--config <file>', 'config file (env HANDOVER_CONFIG; default ./handover.config.{json,yaml})')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env HANDOVER_LOG_LEVEL)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => env.stdout.write(s),
      writeErr: (s) => env.stderr.write(s),
    })
    .exitOverride();

  for (const cmd of [exportCommand(env), verifyCommand(env), inspectCommand(env), decryptCommand(env), shareCommand(env), keysCommand(env), holdCommand(env), retentionCommand(env), auditCommand(env), workerCommand(env), offboardCommand(env), requestCommand(env), batchCommand(env), demoCommand(env)]) {
    program.addCommand(cmd as unknown as Command);
  }
  // Subcommands throw instead of exiting, so that only the entry point exits.
  const override = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => env.stdout.write(s), writeErr: (s) => env.stderr.write(s) });
    c.showHelpAfterError('(run with --help for usage)');
    c.commands.forEach((s) => override(s as Command));
  };
  program.commands.forEach((c) => override(c as Command));
  return program;
}

export { CommanderError };
