import { createAuditLog, createMemoryStore, ManualClock, type MemoryStore, type Store } from '@handover/core';
import cron from 'node-cron';
import { Registry } from 'prom-client';
import { archiveKey } from '../planner/archive-key.js';
import { defaultPolicies } from '../policy/classes.js';
import { computeRetainUntil } from '../policy/precedence.js';
import { WindowLease } from './lease.js';
import { createMetricsServer } from './metrics-server.js';
import { RetentionWorker, type WorkerLogger } from './retention-worker.js';

const policies = defaultPolicies();
const DAY = 86_400_000;
const quiet: WorkerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Counts, per archive key, how many delete calls really removed it. */
function countingStore(inner: MemoryStore): Store & { deletions: Map<string, number>; gate?: Promise<void> } {
  const s: Store & { deletions: Map<string, number>; gate?: Promise<void> } = {
    url: inner.url,
    deletions: new Map(),
    put: (k, b, o) => inner.put(k, b, o),
    get: (k, o) => inner.get(k, o),
    head: (k) => inner.head(k),
    list: (p, o) => inner.list(p, o),
    async delete(keys) {
      if (s.gate !== undefined && keys.some((k) => k.startsWith('archives/'))) await s.gate;
      for (const k of keys) {
        if (k.startsWith('archives/') && (await inner.head(k)) !== undefined) s.deletions.set(k, (s.deletions.get(k) ?? 0) + 1);
      }
      return inner.delete(keys);
    },
  };
  return s;
}

async function seed(store: Store, n: number, cls: string, createdAt: Date): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = archiveKey({
      retainUntil: computeRetainUntil(policies, [cls], createdAt),
      classes: [cls],
      subjectRef: `s-${i % 7}`,
      createdAt,
      id: `${cls.replace(/-/g, '_')}_${i}`,
    });
    await store.put(key, 'x');
    keys.push(key);
  }
  return keys;
}

function worker(store: Store, clock: ManualClock, id: string, extra: Partial<ConstructorParameters<typeof RetentionWorker>[0]> = {}) {
  return new RetentionWorker({
    store,
    policies,
    clock,
    audit: createAuditLog({ store, clock, host: id, ip: '::1' }),
    logger: quiet,
    holderId: id,
    actor: `retention-worker@${id}`,
    ...extra,
  });
}

describe('RetentionWorker', () => {
  it('keeps an export-download at day 29 and purges it at day 31', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const store = countingStore(createMemoryStore({ clock }));
    const keys = await seed(store, 3, 'export-download', clock.now());
    const w = worker(store, clock, 'w1');
    clock.advance(29 * DAY);
    const r29 = await w.runOnce();
    expect(r29).toMatchObject({ status: 'purged', purge: { deleted: { count: 0 } } });
    clock.advance(2 * DAY);
    const r31 = await w.runOnce();
    expect(r31).toMatchObject({ status: 'purged', purge: { deleted: { count: 3 } } });
    expect([...store.deletions.keys()].sort()).toEqual([...keys].sort());
    const metrics = await w.metrics.registry.metrics();
    expect(metrics).toMatch(/handover_retention_objects_purged_total\{action="delete"\} 3/);
    expect(metrics).toMatch(/handover_retention_runs_total\{outcome="success"\} 2/);
    expect(metrics).toContain(`handover_retention_last_success_timestamp_seconds ${Date.parse('2024-02-01T00:00:00Z') / 1000}`);
    expect(w.health()).toMatchObject({ ok: true, running: false, lastSuccess: '2024-02-01T00:00:00.000Z' });
  });

  it('two workers on one store, run at once: every object is deleted exactly once', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const store = countingStore(createMemoryStore({ clock }));
    const due = await seed(store, 2500, 'oauth-token', clock.now());
    await seed(store, 50, 'financial-audit-log', clock.now());
    clock.advance(8 * DAY);
    const a = worker(store, clock, 'replica-a', { batchSize: 500 });
    const b = worker(store, clock, 'replica-b', { batchSize: 500 });
    const results = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    expect(results.map((r) => r.status).sort()).toEqual(['purged', 'purged', 'skipped', 'skipped']);
    // Once the lease is free again, the other replica finds nothing left to do.
    const again = await Promise.all([b.runOnce(), a.runOnce()]);
    for (const r of again) if (r.status === 'purged') expect(r.purge.deleted.count).toBe(0);
    expect(store.deletions.size).toBe(due.length);
    expect([...store.deletions.values()].every((n) => n === 1)).toBe(true);
    const audit = createAuditLog({ store, clock });
    expect((await audit.verify()).ok).toBe(true);
  });

  it('stop() is idempotent and waits for the run in flight', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const store = countingStore(createMemoryStore({ clock }));
    await seed(store, 5, 'oauth-token', clock.now());
    clock.advance(8 * DAY);
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => (open = resolve));
    const w = worker(store, clock, 'w');
    w.start();
    w.start();
    const tasks = [...cron.getTasks().values()].filter((t) => t.name === 'handover-retention');
    expect(tasks).toHaveLength(1);
    const next = tasks[0]?.getNextRun();
    expect([next?.getUTCHours(), next?.getUTCMinutes()]).toEqual([2, 0]); // 02:00 UTC, whatever TZ says
    const run = w.runOnce();
    expect(w.runOnce()).toBe(run); // joins the run in flight
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    expect(w.stop()).toBe(w.stop());
    // Let everything that can run, run: the purge is still parked at the gate.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(stopped).toBe(true);
    expect(await run).toMatchObject({ status: 'purged', purge: { deleted: { count: 5 } } });
    expect([...cron.getTasks().values()].filter((t) => t.name === 'handover-retention')).toHaveLength(0);
    w.start(); // a stopped worker stays stopped
    await w.stop();
  });

  it('refuses an invalid schedule', () => {
    const clock = new ManualClock(0);
    expect(() => worker(createMemoryStore(), clock, 'w', { schedule: 'every day' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('reports a failed run without throwing, and counts it', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const inner = createMemoryStore({ clock });
    const broken: Store = { ...countingStore(inner), list: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('S3 is down')) }) }) };
    const w = worker(broken, clock, 'w', { metrics: new Registry() });
    const r = await w.runOnce();
    expect(r.status).toBe('failed');
    expect(w.health()).toMatchObject({ ok: false, lastError: 'S3 is down' });
    expect(await w.metrics.registry.metrics()).toMatch(/handover_retention_failures_total 1/);
  });
});

describe('WindowLease', () => {
  it('lets one holder in, keeps others out across a window change, and frees up after a crash', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const store = createMemoryStore({ clock });
    const windowMs = 60_000;
    const a = new WindowLease({ store, clock, holderId: 'a', windowMs });
    const b = new WindowLease({ store, clock, holderId: 'b', windowMs });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    clock.advance(windowMs); // next window: pre-claimed by a
    await a.renew();
    expect(await b.acquire()).toBe(false);
    expect(await b.holder()).toBe('a');
    // a crashes (no release, no renew): its windows run out.
    clock.advance(2 * windowMs);
    expect(await b.acquire()).toBe(true);
    // a wakes up: the window it needs is b's — it has lost the lease.
    await expect(a.renew()).rejects.toMatchObject({ code: 'E_LEASE' });
    await b.release();
    expect(await a.acquire()).toBe(true);
  });
});

describe('metrics server', () => {
  it('serves /metrics and /healthz', async () => {
    const registry = new Registry();
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const w = worker(createMemoryStore({ clock }), clock, 'w', { metrics: registry });
    let healthy = true;
    const server = await createMetricsServer({ port: 0, registry, health: () => ({ ...w.health(), ok: healthy }) });
    try {
      const m = await fetch(`${server.url}/metrics`);
      expect(m.status).toBe(200);
      expect(m.headers.get('content-type')).toContain('text/plain');
      const text = await m.text();
      for (const name of [
        'handover_retention_runs_total',
        'handover_retention_objects_purged_total',
        'handover_retention_bytes_purged_total',
        'handover_retention_failures_total',
        'handover_retention_last_success_timestamp_seconds',
      ]) {
        expect(text).toContain(`# TYPE ${name}`);
      }
      const h = await fetch(`${server.url}/healthz`);
      expect(h.status).toBe(200);
      expect(await h.json()).toMatchObject({ ok: true, holderId: 'w' });
      healthy = false;
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
