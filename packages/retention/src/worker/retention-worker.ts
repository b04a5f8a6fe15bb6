import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditLog, Clock, Store } from '@handover/core';
import cron, { type ScheduledTask } from 'node-cron';
import type { Registry } from 'prom-client';
import { RetentionError } from '../errors.js';
import { planFromStore } from '../planner/plan-from-store.js';
import type { Plan } from '../planner/plan.js';
import type { RetentionPolicies } from '../policy/classes.js';
import { purge, type KeyShredder, type PurgeResult } from '../purge/purge.js';
import { WindowLease } from './lease.js';
import { createRetentionMetrics, type RetentionMetrics } from './metrics.js';

/** Minimal logger (pino-compatible). */
export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RetentionWorkerDeps {
  store: Store;
  policies: RetentionPolicies;
  clock: Clock;
  audit: AuditLog;
  /** Needed for crypto-shred classes; without it shreds stay pending. */
  keyShredder?: KeyShredder;
  logger: WorkerLogger;
  /** Cron expression, evaluated in UTC. Default `0 2 * * *` (02:00 UTC daily). */
  schedule?: string;
  /** Registry to register the worker's metrics on. Default: a Registry of its own. */
  metrics?: Registry;
  /** Recorded in audit records and certificates. Default `retention-worker@<hostname>`. */
  actor?: string;
  /** Lease holder id. Default `<hostname>:<pid>:<random>`. */
  holderId?: string;
  /** Lease window. Default 10 minutes. */
  leaseWindowMs?: number;
  /** Planner scan mode. Default `due`. */
  scan?: 'due' | 'full';
  /** Keys per delete request (≤1000). */
  batchSize?: number;
}

export type WorkerRunResult =
  | { status: 'purged'; plan: Pick<Plan, 'now' | 'totals' | 'coverage' | 'fingerprint'>; purge: PurgeResult }
  | { status: 'skipped'; reason: 'lease-held'; holder?: string }
  | { status: 'failed'; error: unknown };

/**
 * Runs the retention purge on a schedule. Several replicas may run against one store: a
 * lease (see lease.ts) lets only one purge at a time; the others skip that run.
 */
export class RetentionWorker {
  readonly metrics: RetentionMetrics;
  readonly #deps: RetentionWorkerDeps;
  readonly #schedule: string;
  readonly #actor: string;
  readonly #lease: WindowLease;
  #task: ScheduledTask | undefined;
  #inFlight: Promise<WorkerRunResult> | undefined;
  #stopped: Promise<void> | undefined;
  #lastSuccess: Date | undefined;
  #lastError: string | undefined;

  constructor(deps: RetentionWorkerDeps) {
    this.#deps = deps;
    this.#schedule = deps.schedule ?? '0 2 * * *';
    if (!cron.validate(this.#schedule)) {
      throw new RetentionError('E_CONFIG', `invalid cron schedule '${this.#schedule}'`, { exitCode: 2 });
    }
    this.#actor = deps.actor ?? `retention-worker@${hostname()}`;
    this.metrics = createRetentionMetrics(deps.metrics);
    this.#lease = new WindowLease({
      store: deps.store,
      clock: deps.clock,
      holderId: deps.holderId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      ...(deps.leaseWindowMs === undefined ? {} : { windowMs: deps.leaseWindowMs }),
    });
  }

  /** Start the schedule (UTC, never overlapping itself). Calling it twice does nothing. */
  start(): void {
    if (this.#task !== undefined || this.#stopped !== undefined) return;
    this.#task = cron.createTask(this.#schedule, () => this.runOnce(), {
      timezone: 'UTC',
      noOverlap: true,
      name: 'handover-retention',
    });
    void this.#task.start();
  }

  /** Stop the schedule and wait for the run in flight. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const task = this.#task;
      this.#task = undefined;
      if (task !== undefined) {
        await task.stop();
        await task.destroy();
      }
      await this.#inFlight?.catch(() => undefined);
    })();
    return this.#stopped;
  }

  /** For /healthz. */
  health(): { ok: boolean; running: boolean; lastSuccess?: string; lastError?: string; holderId: string } {
    return {
      ok: this.#lastError === undefined,
      running: this.#inFlight !== undefined,
      holderId: this.#lease.holderId,
      ...(this.#lastSuccess === undefined ? {} : { lastSuccess: this.#lastSuccess.toISOString() }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** One run now: take the lease or skip, plan from the store, purge. A second call while one runs joins it. */
  runOnce(): Promise<WorkerRunResult> {
    this.#inFlight ??= this.#run().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #run(): Promise<WorkerRunResult> {
    const { store, clock, logger } = this.#deps;
    const m = this.metrics;
    let acquired: boolean;
    try {
      acquired = await this.#lease.acquire();
    } catch (err) {
      return this.#failed(err);
    }
    if (!acquired) {
      const holder = await this.#lease.holder().catch(() => undefined);
      m.runs.inc({ outcome: 'skipped' });
      logger.info({ holder }, 'retention run skipped: another replica holds the lease');
      return { status: 'skipped', reason: 'lease-held', ...(holder === undefined ? {} : { holder }) };
    }
    const lost = new AbortController();
    const renew = async (): Promise<void> => {
      try {
        await this.#lease.renew();
      } catch (err) {
        lost.abort(err);
        throw err;
      }
    };
    // Planning a big store takes a while without batch boundaries: renew on a timer too.
    const timer = setInterval(() => void renew().catch(() => undefined), Math.max(1000, this.#lease.windowMs / 4));
    timer.unref();
    try {
      const now = clock.now();
      const plan = await planFromStore(store, {
        policies: this.#deps.policies,
        now,
        signal: lost.signal,
        ...(this.#deps.scan === undefined ? {} : { scan: this.#deps.scan }),
      });
      await renew();
      const result = await purge({
        store,
        plan,
        audit: this.#deps.audit,
        clock,
        actor: this.#actor,
        signal: lost.signal,
        onProgress: renew,
        logger,
        ...(this.#deps.keyShredder === undefined ? {} : { keyShredder: this.#deps.keyShredder }),
        ...(this.#deps.batchSize === undefined ? {} : { batchSize: this.#deps.batchSize }),
      });
      m.runs.inc({ outcome: 'success' });
      // 'shred' objects are the ciphertext of crypto-shred classes; their keys are counted apart.
      m.objectsPurged.inc({ action: 'delete' }, result.deletedByAction.delete);
      m.objectsPurged.inc({ action: 'shred' }, result.deletedByAction.shred);
      m.bytesPurged.inc(result.deleted.bytes);
      m.keyShreds.inc(result.keyShreds);
      if (result.failed.length > 0) m.failures.inc(result.failed.length);
      this.#lastSuccess = clock.now();
      this.#lastError = undefined;
      m.lastSuccess.set(this.#lastSuccess.getTime() / 1000);
      logger.info(
        { runId: result.runId, deleted: result.deleted.count, bytes: result.deleted.bytes, keyShreds: result.keyShreds, failed: result.failed.length },
        'retention run done',
      );
      return { status: 'purged', plan: { now: plan.now, totals: plan.totals, coverage: plan.coverage, fingerprint: plan.fingerprint }, purge: result };
    } catch (err) {
      return this.#failed(err);
    } finally {
      clearInterval(timer);
      await this.#lease.release().catch((err: unknown) => logger.warn({ err }, 'could not release the retention lease'));
    }
  }

  #failed(err: unknown): WorkerRunResult {
    this.metrics.runs.inc({ outcome: 'failure' });
    this.metrics.failures.inc();
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#deps.logger.error({ err }, 'retention run failed');
    return { status: 'failed', error: err };
  }
}
