// Shared helpers of the benchmarks: run a command, measure wall time and peak RSS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * Runs a command, returns { code, wallS, peakRssMB, stdout, stderr }. Peak RSS comes from
 * GNU time when installed; otherwise from polling VmHWM (the kernel's high-water mark).
 */
export function measure(cmd, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const useTime = GNU_TIME !== undefined;
    const argv = useTime ? ['-f', '__TIME__ %e %M', cmd, ...args] : args;
    const start = process.hrtime.bigint();
    const child = spawn(useTime ? GNU_TIME : cmd, argv, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hwm = 0;
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {}
        }, 50);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const wallS = Number(process.hrtime.bigint() - start) / 1e9;
      let peakRssMB = hwm / 1024;
      const m = /__TIME__ ([\d.]+) (\d+)\s*$/.exec(stderr);
      if (m) {
        peakRssMB = Number(m[2]) / 1024;
        stderr = stderr.slice(0, m.index);
      }
      resolvePromise({ code, wallS, peakRssMB, stdout, stderr });
    });
  });
}

/**
 * The Node flags the CLI is started with: those on its shebang line (see packages/cli/src/bin.ts).
 * The environment set there (the glibc malloc settings) is set here for every process a benchmark starts.
 */
export const NODE_FLAGS = (() => {
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S ((?:\w+=\S*\s+)*)node(.*)$/.exec(first);
  if (!m) return [];
  for (const a of m[1].trim().split(/\s+/).filter(Boolean)) process.env[a.slice(0, a.indexOf('='))] ??= a.slice(a.indexOf('=') + 1);
  return m[2].trim().split(/\s+/).filter(Boolean);
})();

/** Runs the CLI as `pnpm handover` does. */
export function handover(args, options) {
  return measure(process.execPath, [...NODE_FLAGS, BIN, ...args], options);
}

export function must(r, what) {
  if (r.code !== 0) {
    console.error(`${what} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
    process.exit(1);
  }
  return r;
}

export function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

export const fmt = {
  s: (x) => `${x.toFixed(1)} s`,
  mb: (x) => `${x.toFixed(0)} MB`,
  rate: (n, s, unit) => `${(n / s).toLocaleString('en-US', { maximumFractionDigits: 0 })} ${unit}/s`,
};

export function verdict(ok) {
  return ok ? 'PASS' : 'MISS';
}

export function row(label, value, target = '', ok) {
  const v = ok === undefined ? '' : verdict(ok);
  console.log(`  ${label.padEnd(44)} ${String(value).padEnd(22)} ${target.padEnd(22)} ${v}`);
}

/** The context a view is begun with when a benchmark drives it directly, with `sink` counting what it is given. */
export function viewContext(member, sink) {
  return {
    subject: member,
    memberships: [],
    request: { id: 'b', reason: 'bench', requester: 'bench', legalBasis: 'bench', scope: 'participant' },
    createdAt: new Date(),
    sourceName: 'demo',
    generator: { name: 'handover', version: 'bench' },
    pseudonymized: false,
    sink,
  };
}
