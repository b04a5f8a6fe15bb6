import { Counter, Gauge, Registry } from 'prom-client';

/** The retention worker's Prometheus metrics, on their own Registry unless one is given. */
export interface RetentionMetrics {
  registry: Registry;
  /** Runs by outcome: success, failure, skipped (another replica held the lease). */
  runs: Counter<'outcome'>;
  /** Objects destroyed, by action (delete, shred). */
  objectsPurged: Counter<'action'>;
  bytesPurged: Counter;
  /** Subject keys crypto-shredded. */
  keyShreds: Counter;
  /** Failed runs plus objects that could not be deleted. */
  failures: Counter;
  /** Unix time (seconds) of the last successful run; 0 before the first. */
  lastSuccess: Gauge;
}

export function createRetentionMetrics(registry: Registry = new Registry()): RetentionMetrics {
  return {
    registry,
    runs: new Counter({
      name: 'handover_retention_runs_total',
      help: 'Retention worker runs, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    objectsPurged: new Counter({
      name: 'handover_retention_objects_purged_total',
      help: 'Objects destroyed by the retention worker, by action',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    bytesPurged: new Counter({
      name: 'handover_retention_bytes_purged_total',
      help: 'Bytes of ciphertext destroyed by the retention worker',
      registers: [registry],
    }),
    keyShreds: new Counter({
      name: 'handover_retention_key_shreds_total',
      help: 'Subject keys crypto-shredded',
      registers: [registry],
    }),
    failures: new Counter({
      name: 'handover_retention_failures_total',
      help: 'Failed retention runs plus objects that could not be deleted',
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'handover_retention_last_success_timestamp_seconds',
      help: 'Unix time of the last successful retention run',
      registers: [registry],
    }),
  };
}
