import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store, type S3Store } from '@handover/core';
import { finished, runCli, startCli, type CliResult } from './support/cli.js';
import { createBucket, motoEnv, startMotoServer, type MotoServer } from './support/moto-server.js';
import { archiveKeyFor, cliJson, DAY, listKeys, randomRef, seedObjects } from './support/retention-fixtures.js';

Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });

let moto: MotoServer;
const bucket = 'handover-worker';

beforeAll(async () => {
  moto = await startMotoServer();
  process.env['AWS_ENDPOINT_URL_S3'] = moto.endpoint;
  await createBucket(moto.endpoint, bucket);
});
afterAll(async () => {
  await moto?.stop();
});

function envFor(prefix: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...motoEnv(moto.endpoint), HANDOVER_STORE: `s3://${bucket}/${prefix}`, ...extra };
}

/** A store at a fresh prefix holding `subjects` × `perSubject` export-download archives created `ageDays` ago. */
async function seeded(subjects: number, perSubject: number, ageDays: number): Promise<{ prefix: string; store: S3Store; keys: string[] }> {
  const prefix = `w-${randomUUID()}`;
  const store = createS3Store({ bucket, prefix });
  const created = Date.now() - ageDays * DAY;
  const keys: string[] = [];
  for (let s = 0; s < subjects; s++) {
    const ref = randomRef();
    for (let i = 0; i < perSubject; i++) keys.push(archiveKeyFor({ cls: 'export-download', days: 30, subjectRef: ref, createdAt: created + i * 1000 }));
  }
  await seedObjects(store, keys);
  return { prefix, store, keys };
}

/** Collects a running CLI's stderr, and resolves once it matches `re`. */
function watchStderr(child: ChildProcess): { text: () => string; until: (re: RegExp) => Promise<RegExpExecArray> } {
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const m = w.re.exec(text);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stderr!.on('data', (d: string | Buffer) => {
    text += d.toString();
    check();
  });
  child.once('close', () => {
    for (const w of waiters.splice(0)) w.reject(new Error(`handover exited before printing ${w.re}:\n${text}`));
  });
  return {
    text: () => text,
    until: (re) =>
      new Promise((resolve, reject) => {
        waiters.push({ re, resolve, reject });
        check();
      }),
  };
}

/** Keys certified by successful retention.purge audit records. */
async function certifiedKeys(env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await cliJson(['audit', 'list', '--action', 'retention.purge'], env);
  return r.json.records.filter((x: { outcome: string }) => x.outcome === 'success').flatMap((x: { details: { keys: string[] } }) => x.details.keys);
}

describe('handover worker (S3 on moto)', () => {
  it('two `worker --once` started at the same moment purge each due object exactly once', async () => {
    const { prefix, store, keys } = await seeded(20, 10, 40);
    try {
      const env = envFor(prefix);
      const children = [startCli(['worker', '--once', '--json'], { env }), startCli(['worker', '--once', '--json'], { env })];
      const results: CliResult[] = await Promise.all(children.map((c) => finished(c)));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const docs = results.map((r) => JSON.parse(r.stdout));
      // One took the lease and purged; the other skipped, or found nothing left once it got the lease.
      const deleted = docs.map((d) => (d.status === 'purged' ? d.purge.deleted.count : 0));
      expect(deleted.reduce((a, b) => a + b, 0)).toBe(keys.length);
      expect(docs.some((d) => d.status === 'purged' && d.purge.deleted.count === keys.length)).toBe(true);

      expect(await listKeys(store, 'archives/')).toEqual([]);
      const certified = await certifiedKeys(env);
      expect(certified).toHaveLength(keys.length);
      expect(new Set(certified)).toEqual(new Set(keys));
      const certs = await cliJson(['audit', 'certificates'], env);
      expect(certs.json.certificates).toHaveLength(20); // one per subject in the batch
      expect((await cliJson(['audit', 'verify'], env)).json.ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('refuses a clock override without the test switch (exit 2); with it, the audit log says the clock was moved', async () => {
    // Created now: due only in 30 days.
    const { prefix, store, keys } = await seeded(2, 5, 0);
    try {
      const in31 = new Date(Date.now() + 31 * DAY).toISOString();
      const refused = await runCli(['worker', '--once'], { env: envFor(prefix, { HANDOVER_NOW: in31 }) });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('refused');
      expect(await listKeys(store, 'archives/')).toHaveLength(keys.length);

      const r = await cliJson(['worker', '--once'], envFor(prefix, { HANDOVER_NOW: in31, HANDOVER_ALLOW_CLOCK_OVERRIDE: 'test' }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.status).toBe('purged');
      expect(r.json.purge.deleted.count).toBe(keys.length);
      const records = (await cliJson(['audit', 'list'], envFor(prefix))).json.records as { action: string; details: Record<string, unknown> }[];
      // One retention.purge record for the batch, whatever the number of subjects in it.
      expect(records.map((x) => x.action)).toEqual(['retention.worker.start', 'retention.purge']);
      for (const rec of records) expect(rec.details['clockOverride']).toEqual({ now: in31, source: 'HANDOVER_NOW' });
    } finally {
      await store.close();
    }
  });

  it('runs on its schedule, serves /healthz and /metrics on the port it prints, and stops on SIGTERM with exit 0', async () => {
    const { prefix, store, keys } = await seeded(3, 10, 40);
    try {
      const child = startCli(['worker', '--schedule', '* * * * * *', '--port', '0'], { env: envFor(prefix) });
      const done = finished(child);
      const err = watchStderr(child);
      const [, url] = await err.until(/metrics on (http:\/\/127\.0\.0\.1:\d+)/);
      // Every second: wait until a run has purged everything (no fixed sleep: poll the metric).
      let metrics = '';
      while (!/handover_retention_objects_purged_total\{action="delete"\} 30\b/.test(metrics)) {
        if (child.exitCode !== null) throw new Error(`the worker exited early:\n${err.text()}`);
        metrics = await (await fetch(`${url}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(metrics).toMatch(/handover_retention_runs_total\{outcome="success"\} \d+/);
      expect(metrics).toMatch(/handover_retention_last_success_timestamp_seconds [1-9]/);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true });
      expect(await listKeys(store, 'archives/')).toEqual([]);
      expect(new Set(await certifiedKeys(envFor(prefix)))).toEqual(new Set(keys));

      child.kill('SIGTERM');
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('retention worker stopped');
    } finally {
      await store.close();
    }
  });

  it('stops on SIGINT with exit 0, and rejects a bad schedule or port with exit 2', async () => {
    const prefix = `w-${randomUUID()}`;
    const child = startCli(['worker', '--port', '0'], { env: envFor(prefix) });
    const done = finished(child);
    await watchStderr(child).until(/retention worker started: schedule "0 2 \* \* \*"/);
    child.kill('SIGINT');
    expect((await done).code).toBe(0);

    const badCron = await runCli(['worker', '--schedule', 'every day', '--once'], { env: envFor(prefix) });
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toContain("invalid cron schedule 'every day'");
    const badPort = await runCli(['worker', '--port', '99999'], { env: envFor(prefix) });
    expect(badPort.code).toBe(2);
  });
});
