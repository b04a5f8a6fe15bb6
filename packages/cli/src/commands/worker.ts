import { hostname } from 'node:os';
import { Command } from '@commander-js/extra-typings';
import { describeError, HandoverError, InputError, isHandoverError } from '@handover/core';
import { createMetricsServer, RetentionWorker, type MetricsServer, type WorkerRunResult } from '@handover/retention';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput, formatBytes } from '../output.js';
import { policiesOf } from '../policies.js';
import { noteClock, openAuditOn, optionalKeyShredder, resolveClock } from '../retention-context.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

export const DEFAULT_SCHEDULE = '0 2 * * *';
export const DEFAULT_METRICS_PORT = 9464;

function parsePort(text: string, where: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65_535) throw new InputError(`${where} '${text}' is not a port (0-65535; 0 picks a free one)`, { exitCode: 2 });
  return n;
}

function describeRun(r: WorkerRunResult): string {
  if (r.status === 'skipped') return `run skipped: another replica holds the retention lease${r.holder ? ` (${r.holder})` : ''}`;
  if (r.status === 'failed') return `run failed: ${describeError(r.error)}`;
  const p = r.purge;
  return (
    `run ${p.runId ?? '(nothing due)'} at ${r.plan.now}: destroyed ${p.deleted.count} objects (${formatBytes(p.deleted.bytes)}), ` +
    `${p.keyShreds} subject keys crypto-shredded, ${p.certificates} certificates` +
    (p.deferredShreds > 0 ? `, ${p.deferredShreds} key shreds waiting` : '') +
    (p.failed.length > 0 ? `, ${p.failed.length} objects could not be deleted` : '')
  );
}

function runDoc(r: WorkerRunResult): Record<string, unknown> {
  if (r.status !== 'failed') return r as unknown as Record<string, unknown>;
  const e = r.error;
  return { status: 'failed', error: { code: isHandoverError(e) ? e.code : 'E_UNEXPECTED', message: describeError(e) } };
}

export function workerCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  return new Command('worker')
    .description('run the retention purge on a schedule (one replica at a time), serving /healthz and /metrics')
    .option('--schedule <cron>', `cron expression, in UTC (env HANDOVER_WORKER_SCHEDULE; default "${DEFAULT_SCHEDULE}": daily at 02:00 UTC)`)
    .option('--port <port>', `port for /healthz and /metrics; 0 picks a free one (env HANDOVER_METRICS_PORT; default ${DEFAULT_METRICS_PORT}; with --once only when given)`)
    .option('--host <address>', 'address to serve metrics on', '127.0.0.1')
    .option('--once', 'one run now, then exit', false)
    .option('--now <instant>', 'act as if it were this instant: tests only (needs HANDOVER_ALLOW_CLOCK_OVERRIDE=test; env HANDOVER_NOW)')
    .option('--master-key-file <file>', 'file holding the master key, for crypto-shreds (env HANDOVER_MASTER_KEY)')
    .option('--json', 'with --once: print the run as one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const schedule = opts.schedule ?? (ctx.env['HANDOVER_WORKER_SCHEDULE'] || DEFAULT_SCHEDULE);
      const portText = opts.port ?? (opts.once ? undefined : ctx.env['HANDOVER_METRICS_PORT'] || String(DEFAULT_METRICS_PORT));
      const port = portText === undefined ? undefined : parsePort(portText, opts.port !== undefined ? '--port' : 'HANDOVER_METRICS_PORT');
      const policies = policiesOf(ctx);
      const time = resolveClock(ctx, opts.now, 'act');
      noteClock(out, time);
      const sc = openConfiguredStore(ctx);
      const keyShredder = await optionalKeyShredder(ctx, sc, out, opts.masterKeyFile);
      const audit = openAuditOn(sc, time);
      const actor = ctx.env['HANDOVER_ACTOR'] ?? ctx.config.actor;
      const worker = new RetentionWorker({
        store: sc.store,
        policies,
        clock: time.clock,
        audit,
        logger: ctx.logger,
        schedule,
        ...(keyShredder ? { keyShredder } : {}),
        ...(actor ? { actor } : {}),
      });
      if (time.override) {
        // Runs with nothing due write no record; this one says the clock was moved.
        await audit.append({
          actor: actor ?? `retention-worker@${hostname()}`,
          action: 'retention.worker.start',
          target: `${ctx.storeLocation.replace(/\/+$/, '')}/archives/`,
          reason: 'retention worker started with a clock override (tests)',
          outcome: 'success',
          details: { schedule, once: opts.once },
        });
      }

      let server: MetricsServer | undefined;
      if (port !== undefined) {
        server = await createMetricsServer({ port, host: opts.host, registry: worker.metrics.registry, health: () => worker.health() });
        env.stderr.write(`metrics on ${server.url}\n`);
      }
      try {
        if (opts.once) {
          const r = await worker.runOnce();
          await worker.stop();
          out.result(runDoc(r), () => describeRun(r));
          if (r.status === 'failed') {
            const e = r.error;
            throw new HandoverError(isHandoverError(e) ? e.code : 'E_WORKER_RUN', `retention run failed: ${describeError(e)}`, { cause: e, reported: true });
          }
          return;
        }
        worker.start();
        out.note(`retention worker started: schedule "${schedule}" (UTC) on ${ctx.storeLocation}; SIGTERM or Ctrl-C stops it after the run in flight`);
        await new Promise<void>((resolve) => {
          if (env.signal.aborted) resolve();
          else env.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        out.note('stopping: waiting for the run in flight');
        await worker.stop();
        out.note('retention worker stopped');
      } finally {
        await worker.stop();
        await server?.close();
      }
    });
}
