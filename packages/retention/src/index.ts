export * from './errors.js';
export * from './policy/index.js';
export * from './holds/hold.js';
export * from './holds/hold-registry.js';
export * from './holds/storage-hold.js';
export * from './planner/plan.js';
export * from './planner/archive-key.js';
export * from './planner/plan-from-store.js';
export * from './planner/request-records.js';
export * from './purge/purge.js';
export * from './purge/post-check.js';
export {
  RETENTION_PREFIX,
  OPEN_RUNS_PREFIX,
  RUNS_PREFIX,
  SHRED_PENDING_PREFIX,
  PLANS_PREFIX,
  type BatchFile,
  type BatchDone,
  type RunFile,
  type JournalDecision,
} from './purge/journal.js';
export * from './certificate/erasure-certificate.js';
export * from './certificate/erasure-certificate-xsd.js';
export * from './worker/lease.js';
export * from './worker/metrics.js';
export * from './worker/metrics-server.js';
export * from './worker/retention-worker.js';
