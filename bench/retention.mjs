// Issue: plan over 1,000,000 object metadata records (< 10 s, < 300 MB RSS, measured in a
// child process), and purge 100,000 due objects on a loopback S3 endpoint (moto), counting
// the S3 requests per 1,000 objects purged (target <= 3) with a counting proxy in front of it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createS3Store } from '@handover/core';
import { fmt, handover, has, measure, must, row } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const PLAN_OBJECTS = Number(process.env.BENCH_PLAN_OBJECTS ?? 1_000_000);
const PURGE_OBJECTS = Number(process.env.BENCH_PURGE_OBJECTS ?? 100_000);
/** Subjects the purged objects belong to: certificates and their audit records are per subject per batch. */
const PURGE_SUBJECTS = Number(process.env.BENCH_PURGE_SUBJECTS ?? 100);
const SEED_CONCURRENCY = Number(process.env.BENCH_SEED_CONCURRENCY ?? 32);
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------
// The planner, in a child process of its own so that its peak RSS is the planner's.

const CLASSES = [
  ['export-download', 30],
  ['gdpr-appeal', 60],
  ['post-deletion-backup', 180],
  ['oauth-token', 7],
  ['financial-audit-log', 7 * 365],
];
const pad = (n, w = 2) => String(n).padStart(w, '0');
const dayStamp = (t) => {
  const d = new Date(t);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
};
const compact = (t) => {
  const d = new Date(t);
  return `${dayStamp(t)}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
};

/**
 * n objects whose retain-until days run evenly over two years, in key order (as a listing
 * returns them); `now` sits in the middle, so about half are due. 100,000 subjects.
 */
function* synthetic(n, start) {
  const span = 730;
  for (let i = 0; i < n; i++) {
    const [cls, days] = CLASSES[i % CLASSES.length];
    const retainUntil = start + Math.floor((i * span) / n) * DAY + (i % 86_400) * 1000;
    const createdAt = retainUntil - days * DAY;
    yield { i, cls, createdAt, retainUntil, subjectRef: (i % 100_000).toString(16).padStart(32, '0'), size: 1000 + (i % 5000) };
  }
}

async function planChild(mode, n) {
  const r = await import(new URL('../packages/retention/dist/index.js', import.meta.url).href);
  const policies = r.resolvePolicies();
  const start = Date.UTC(2025, 0, 1);
  const now = new Date(start + 365 * DAY);
  const t0 = performance.now();
  let p;
  if (mode === 'records') {
    // StoredObjectMeta records straight into the pure planner.
    const metas = function* () {
      for (const o of synthetic(n, start)) yield { key: `archives/${o.i}`, size: o.size, class: o.cls, createdAt: o.createdAt, retainUntil: o.retainUntil, subjectRef: o.subjectRef };
    };
    p = r.plan({ objects: metas(), policies, holds: [], now });
  } else {
    // What `handover retention plan` does: a store listing, each key parsed by the archive key scheme.
    const store = {
      url: 'bench://',
      async *list(prefix) {
        if (prefix !== 'archives/') return;
        const lastModified = new Date(start);
        for (const o of synthetic(n, start)) {
          yield { key: `archives/${dayStamp(o.retainUntil)}/${o.cls}/${o.subjectRef}/${compact(o.createdAt)}-${o.i.toString(16)}.zip.age`, size: o.size, lastModified };
        }
      },
    };
    p = await r.planFromStore(store, { policies, now });
  }
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ ms, decisions: p.decisions.length, totals: p.totals, coverage: p.coverage })}\n`);
}

async function benchPlan() {
  for (const [mode, label] of [
    ['records', `plan(): ${PLAN_OBJECTS.toLocaleString('en-US')} metadata records`],
    ['listing', `planFromStore(): ${PLAN_OBJECTS.toLocaleString('en-US')} listed keys`],
  ]) {
    const r = must(await measure(process.execPath, [SELF, '--plan-child', mode, String(PLAN_OBJECTS)]), `plan (${mode})`);
    const out = JSON.parse(r.stdout);
    const due = out.totals.delete.count + out.totals.shred.count;
    row(`${label}: wall (process)`, fmt.s(r.wallS), '< 10 s', r.wallS < 10);
    row(`  planning alone`, fmt.s(out.ms / 1000));
    row(`  peak RSS (process)`, fmt.mb(r.peakRssMB), '< 300 MB', r.peakRssMB < 300);
    row(`  due / seen`, `${due.toLocaleString('en-US')} / ${out.totals.objects.count.toLocaleString('en-US')}`);
  }
}

// ---------------------------------------------------------------------------------------
// Purging on moto, every request counted.

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startMoto() {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const kill = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  process.once('exit', kill);
  for (let i = 0; i < 600; i++) {
    try {
      await (await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) })).arrayBuffer();
      return { endpoint, stop: kill };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  kill();
  throw new Error('moto_server did not start');
}

/** What kind of S3 request an HTTP request is. */
function kindOf(req) {
  const url = new URL(req.url, 'http://x');
  const q = url.searchParams;
  if (req.method === 'GET' && q.has('list-type')) return 'List';
  if (req.method === 'POST' && q.has('delete')) return 'DeleteObjects';
  if (q.has('tagging')) return `${req.method} tagging`;
  return req.method;
}

/** An HTTP proxy in front of moto that counts requests by kind. */
async function countingProxy(target) {
  const upstream = new URL(target);
  const counts = new Map();
  const server = http.createServer((req, res) => {
    const k = kindOf(req);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    const headers = { ...req.headers };
    delete headers['expect'];
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    counts,
    reset: () => counts.clear(),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function benchPurge() {
  if (!has('moto_server')) {
    row('purge on moto', 'skipped: no moto_server on PATH');
    return;
  }
  const creds = { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' };
  Object.assign(process.env, creds);
  const moto = await startMoto();
  const proxy = await countingProxy(moto.endpoint);
  try {
    const bucket = 'handover-bench';
    const res = await fetch(`${moto.endpoint}/${bucket}`, { method: 'PUT' });
    if (!res.ok) throw new Error(`create bucket: HTTP ${res.status}`);
    const prefix = 'bench';
    const store = createS3Store({ bucket, prefix, endpoint: moto.endpoint, forcePathStyle: true });

    // Seed: archives of export-download (30 days) created 40 days ago, so due now.
    const created = Date.now() - 40 * DAY;
    const refs = Array.from({ length: PURGE_SUBJECTS }, () => randomBytes(16).toString('hex'));
    const keyOf = (i) => {
      const c = Math.ceil((created + (i % 3600) * 1000) / 1000) * 1000;
      return `archives/${dayStamp(c + 30 * DAY)}/export-download/${refs[i % PURGE_SUBJECTS]}/${compact(c)}-${i.toString(16).padStart(8, '0')}.zip.age`;
    };
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: SEED_CONCURRENCY }, async () => {
        while (next < PURGE_OBJECTS) {
          const i = next++;
          await store.put(keyOf(i), 'x', { contentType: 'application/octet-stream' });
        }
      }),
    );
    const seedS = (performance.now() - t0) / 1000;
    await store.close();
    row(`seed ${PURGE_OBJECTS.toLocaleString('en-US')} objects into moto (${SEED_CONCURRENCY} at once)`, fmt.s(seedS), '', undefined);
    row('  seed rate', fmt.rate(PURGE_OBJECTS, seedS, 'PUT'));

    // The purge, through the counting proxy, as an operator runs it.
    const env = { ...creds, AWS_ENDPOINT_URL_S3: proxy.endpoint, HANDOVER_STORE: `s3://${bucket}/${prefix}`, HANDOVER_MASTER_KEY: randomBytes(32).toString('base64'), HANDOVER_ACTOR: 'bench' };
    proxy.reset();
    const r = must(await handover(['retention', 'run', '--json'], { env }), 'retention run');
    const doc = JSON.parse(r.stdout);
    const purged = doc.deleted.count;
    const total = proxy.total();
    const per1000 = (n) => (n / (purged / 1000)).toFixed(2);
    const data = (proxy.counts.get('List') ?? 0) + (proxy.counts.get('DeleteObjects') ?? 0);
    row(`purge ${PURGE_OBJECTS.toLocaleString('en-US')} due objects (${PURGE_SUBJECTS} subjects)`, fmt.s(r.wallS));
    row('  objects purged', purged.toLocaleString('en-US'), PURGE_OBJECTS.toLocaleString('en-US'), purged === PURGE_OBJECTS);
    row('  purge rate', fmt.rate(purged, r.wallS, 'obj'));
    row('  peak RSS', fmt.mb(r.peakRssMB));
    row('  S3 requests / 1,000 purged (all)', per1000(total), '<= 3', Number(per1000(total)) <= 3);
    row('  … List + DeleteObjects only', per1000(data), '<= 3', Number(per1000(data)) <= 3);
    for (const [k, n] of [...proxy.counts.entries()].sort((a, b) => b[1] - a[1])) row(`    ${k}`, `${n.toLocaleString('en-US')} (${per1000(n)} / 1,000)`);
    row('  certificates written', doc.certificates.toLocaleString('en-US'));
  } finally {
    await proxy.close();
    moto.stop();
  }
}

export async function benchRetention() {
  console.log(`\n== retention: plan ${PLAN_OBJECTS.toLocaleString('en-US')} objects; purge ${PURGE_OBJECTS.toLocaleString('en-US')} on moto ==`);
  await benchPlan();
  await benchPurge();
}

if (process.argv[1] === SELF && process.argv[2] === '--plan-child') {
  await planChild(process.argv[3], Number(process.argv[4]));
} else if (process.argv[1] === SELF) {
  await benchRetention();
}
