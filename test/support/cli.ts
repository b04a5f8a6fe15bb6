import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** A master key for this test process, so tests never touch the user's own key file. */
export const TEST_MASTER_KEY = randomBytes(32).toString('base64');
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** The Node binary to run the CLI with; default the one running the tests. */
  node?: string;
  /** V8's old-generation bound in MB, in place of the shebang's: to show a command fits a smaller heap. */
  maxOldSpaceMB?: number;
}

/** Runs the built `handover` CLI as a user would, in its own process. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options);
  return finished(child, options.timeoutMs ?? 170_000, options.input);
}

/** The environment and Node flags on the CLI's shebang line, so tests start it as `pnpm handover` does. */
const { env: SHEBANG_ENV, flags: NODE_FLAGS } = ((): { env: Record<string, string>; flags: string[] } => {
  try {
    const m = /^#!\/usr\/bin\/env -S ((?:\w+=\S*\s+)*)node(.*)$/.exec(readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '');
    if (!m) return { env: {}, flags: [] };
    const env = Object.fromEntries(m[1]!.trim().split(/\s+/).filter(Boolean).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
    return { env, flags: m[2]!.trim().split(/\s+/).filter(Boolean) };
  } catch {
    return { env: {}, flags: [] };
  }
})();

export function startCli(args: string[], options: CliOptions = {}): ChildProcess {
  const flags =
    options.maxOldSpaceMB === undefined
      ? NODE_FLAGS
      : [...NODE_FLAGS.filter((f) => !f.startsWith('--max-old-space-size=')), `--max-old-space-size=${options.maxOldSpaceMB}`];
  return spawn(options.node ?? process.execPath, [...flags, BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...SHEBANG_ENV, HANDOVER_LOG_LEVEL: 'warn', NO_COLOR: '1', HANDOVER_MASTER_KEY: TEST_MASTER_KEY, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function finished(child: ChildProcess, timeoutMs = 170_000, input?: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`handover did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'handover-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs any program and collects its output. */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  const child = spawn(cmd, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  return finished(child, 170_000, options.input);
}
