import { CommanderError } from '@commander-js/extra-typings';
import { describeError, isHandoverError } from '@handover/core';
import { buildProgram } from './program.js';
import type { RunEnv } from './run-env.js';

/**
 * Runs the CLI and returns the exit status: 0 success, 1 failure, 2 usage error,
 * 130 interrupted. Only bin.ts turns it into process.exit.
 */
export async function main(argv: string[], env: RunEnv): Promise<number> {
  const program = buildProgram(env);
  if (argv.length === 0) {
    env.stderr.write(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; they are successes to users.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    if (env.signal.aborted) {
      env.stderr.write('interrupted: nothing was left half-written\n');
      return 130;
    }
    const json = argv.includes('--json');
    if (isHandoverError(err)) {
      if (json && !err.reported) env.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message } }) + '\n');
      env.stderr.write(`error: ${err.message}\n`);
      if (err.exitCode === 2) env.stderr.write('(run with --help for usage)\n');
      return err.exitCode;
    }
    if (json) env.stdout.write(JSON.stringify({ error: { code: 'E_UNEXPECTED', message: describeError(err) } }) + '\n');
    env.stderr.write(`error: ${describeError(err)}\n`);
    if (env.env['HANDOVER_DEBUG'] && err instanceof Error && err.stack) env.stderr.write(err.stack + '\n');
    return 1;
  }
}
