// Issue: "Memory. A 1 GB Mattermost JSONL or Slack export is processed in constant memory
// (peak RSS under 200 MB)." Generates both inputs (gen-mattermost.mjs, gen-slack.mjs; reused
// across runs while their markers match), exports the subject from each with the real CLI
// (--no-encrypt --no-html), and checks peak RSS against 200 MB at 1x, and against the same
// export at 1/4 of the size (constant memory: the 1x peak within 10% of the 1/4 one).
//
// Environment:
//   BENCH_SOURCE_BYTES        size of each input (default 2^30 bytes = 1 GiB; the 1/4 run uses a quarter)
//   BENCH_SOURCE_KINDS        mattermost,slack (default both)
//   BENCH_SOURCE_ZIP=1        also export from the zipped inputs (zip -1 made once, reused)
//   BENCH_SOURCE_NODE_FLAGS   node flags for the CLI runs, e.g. "--max-old-space-size=128"
//   BENCH_SOURCE_DIAG=1       also rerun the exports with a sampler of process.memoryUsage(), and
//                             with --max-old-space-size=128 and/or --max-semi-space-size=4, to
//                             tell uncollected garbage from live data when the peak is over target
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BIN, NODE_FLAGS as CLI_NODE_FLAGS, ROOT, fmt, measure, must, row } from './lib.mjs';
import { readMarker, writeMarker } from './gen-common.mjs';
import { generateMattermost } from './gen-mattermost.mjs';
import { generateSlack } from './gen-slack.mjs';

const BYTES = Number(process.env.BENCH_SOURCE_BYTES ?? 2 ** 30);
const KINDS = (process.env.BENCH_SOURCE_KINDS ?? 'mattermost,slack').split(',').filter(Boolean);
const ZIP = process.env.BENCH_SOURCE_ZIP === '1';
const DIAG = process.env.BENCH_SOURCE_DIAG === '1';
// The CLI's own flags (its shebang line, as `pnpm handover` starts it), or an override.
const NODE_FLAGS = process.env.BENCH_SOURCE_NODE_FLAGS !== undefined ? process.env.BENCH_SOURCE_NODE_FLAGS.split(/\s+/).filter(Boolean) : CLI_NODE_FLAGS;
const TARGET_MB = 200;
const GROWTH = 0.1;
const FIXTURE = join(ROOT, 'test/fixtures/mattermost/export/export.jsonl');

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const gb = (b) => `${(b / 1e9).toFixed(2)} GB`;
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/**
 * Preloaded into the CLI with --import (diagnostic runs): samples process.memoryUsage()
 * every 20 ms and prints, at exit, the sample with the highest RSS and the highest of each field.
 */
const SAMPLER = `data:text/javascript,${encodeURIComponent(`
const peak = { rss: 0 }; const max = {};
const sample = () => { const m = process.memoryUsage(); for (const k in m) max[k] = Math.max(max[k] ?? 0, m[k]); if (m.rss > peak.rss) Object.assign(peak, m); };
setInterval(sample, 20).unref();
process.on('exit', () => { sample(); const mb = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / 1048576)])); process.stderr.write('__MEM__ ' + JSON.stringify({ atPeak: mb(peak), max: mb(max) }) + '\\n'); });
`)}`;

const KIND = {
  mattermost: { file: (n) => `mattermost-${n}.jsonl`, generate: generateMattermost, unit: (i) => `${i.lines.toLocaleString('en-US')} lines` },
  slack: { file: (n) => `slack-${n}`, generate: generateSlack, unit: (i) => `${i.files.toLocaleString('en-US')} files, ${i.days} days` },
};

function input(dir, kind, bytes) {
  const k = KIND[kind];
  const path = join(dir, k.file(bytes));
  const t0 = performance.now();
  const info = k.generate(path, bytes);
  const note = info.reused ? 'reused' : `generated in ${fmt.s((performance.now() - t0) / 1000)}`;
  row(`${kind} input ${gb(bytes)}`, `${gb(info.bytes)}`, note);
  row(`  ${k.unit(info)}, ${info.messages.toLocaleString('en-US')} msgs`, `subject: ${info.subject.messages.toLocaleString('en-US')} msgs`, `${info.subject.conversations} conversations`);
  return { path, info };
}

/** The input zipped once (`zip -1`, as an export would be downloaded), reused while its marker matches. */
async function zipped(kind, path, info) {
  const zip = `${path}.zip`;
  // The source's generation time changes whenever it is regenerated, so a stale zip is never reused.
  const expect = { generator: 'zip', of: basename(path), sourceBytes: info.bytes, sourceVersion: info.version, sourceGeneratedS: info.generatedS };
  if (readMarker(zip, expect)) return zip;
  rmSync(zip, { force: true });
  const t0 = performance.now();
  if (kind === 'slack') must(await measure('zip', ['-q', '-r', '-1', '-X', zip, '.'], { cwd: path }), 'zip');
  else must(await measure('zip', ['-q', '-1', '-X', '-j', zip, path], { cwd: dirname(path) }), 'zip');
  writeMarker(zip, { ...expect, bytes: statSync(zip).size });
  row(`  zipped (zip -1)`, gb(statSync(zip).size), `in ${fmt.s((performance.now() - t0) / 1000)}`);
  return zip;
}

/** One export of the subject with the real CLI; out file and store removed after. */
async function exportOnce(dir, kind, path, subject, flags = NODE_FLAGS) {
  const work = join(dir, `run-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const out = join(work, 'out.zip');
  const args = ['export', '--member', subject, '--source', `${kind}:${path}`, '--out', out, '--no-encrypt', '--no-html', '--json', '--store', join(work, 'store')];
  const loadBefore = loadavg()[0];
  const env = { HANDOVER_MASTER_KEY: process.env.HANDOVER_MASTER_KEY ?? randomBytes(32).toString('base64') };
  try {
    const r = must(await measure(process.execPath, [...flags, BIN, ...args], { env }), `export from ${basename(path)}${flags.length ? ` (${flags.join(' ')})` : ''}`);
    const mem = /__MEM__ (.*)/.exec(r.stderr);
    return { ...r, counts: JSON.parse(r.stdout).counts, archiveBytes: statSync(out).size, loadBefore, mem: mem ? JSON.parse(mem[1]) : undefined };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(label, e, info) {
  const ok = e.counts.messages === info.subject.messages && e.counts.conversations === info.subject.conversations;
  row(`${label}: messages exported`, e.counts.messages.toLocaleString('en-US'), `= generated (${info.subject.messages.toLocaleString('en-US')})`, ok);
  row(`${label}: wall time`, fmt.s(e.wallS), `load ${e.loadBefore.toFixed(1)} before`);
  row(`${label}: input read${label.endsWith('zip') ? ' (unzipped)' : ''}`, fmt.rate(info.bytes / 1e6, e.wallS, 'MB'), `${fmt.rate(e.counts.messages, e.wallS, 'msg')} exported`);
  row(`${label}: peak RSS`, fmt.mb(e.peakRssMB), `< ${TARGET_MB} MB`, e.peakRssMB < TARGET_MB);
}

export async function benchSources(dir) {
  console.log(`\n== sources: ${KINDS.join(', ')} exports of ${gb(BYTES)} (and 1/4 of that), subject subject@example.com ==`);
  mkdirSync(dir, { recursive: true });
  row('load average before (1/5/15 min)', load(), `${cpus().length} cores`);
  if (NODE_FLAGS.length) row('node flags of the CLI runs', NODE_FLAGS.join(' '));
  // The fixed cost: the same CLI exporting the 17 messages of the test fixture.
  const base = await exportOnce(dir, 'mattermost', FIXTURE, 'alice');
  row('CLI baseline: peak RSS, fixture export', fmt.mb(base.peakRssMB), `${base.counts.messages} messages`);
  const results = {};
  for (const kind of KINDS) {
    if (!KIND[kind]) throw new Error(`unknown source kind '${kind}': use mattermost, slack`);
    const quarter = input(dir, kind, Math.round(BYTES / 4));
    const full = input(dir, kind, BYTES);
    const q = await exportOnce(dir, kind, quarter.path, quarter.info.subject.selector);
    report(`${kind} 1/4`, q, quarter.info);
    const f = await exportOnce(dir, kind, full.path, full.info.subject.selector);
    report(`${kind} 1x`, f, full.info);
    const growth = f.peakRssMB / q.peakRssMB - 1;
    row(`${kind}: peak RSS 1/4 → 1x`, `${pct(growth)} (${f.peakRssMB - q.peakRssMB >= 0 ? '+' : ''}${fmt.mb(f.peakRssMB - q.peakRssMB)})`, `within ${GROWTH * 100}%`, growth <= GROWTH);
    results[kind] = { quarter: q, full: f };
    if (ZIP) {
      const zip = await zipped(kind, full.path, full.info);
      const z = await exportOnce(dir, kind, zip, full.info.subject.selector);
      report(`${kind} 1x zip`, z, full.info);
      results[kind].zip = z;
    }
    if (DIAG) {
      const s = await exportOnce(dir, kind, full.path, full.info.subject.selector, [...NODE_FLAGS, '--import', SAMPLER]);
      const { atPeak, max } = s.mem ?? {};
      if (atPeak) {
        row(`${kind} 1x sampled, at peak RSS (MB)`, `rss ${atPeak.rss} heap ${atPeak.heapUsed}/${atPeak.heapTotal}`, `external ${atPeak.external}, buffers ${atPeak.arrayBuffers}`);
        row(`${kind} 1x sampled, highest (MB)`, `heapUsed ${max.heapUsed}`, `heapTotal ${max.heapTotal}, external ${max.external}`);
      }
      // Garbage or live data? A capped old space (128 MB) and/or young generation (4 MB semi-spaces)
      // make V8 collect sooner; what remains is live. Also the 1/4 → 1x growth with the cap.
      const old = ['--max-old-space-size=128'];
      const dq = await exportOnce(dir, kind, quarter.path, quarter.info.subject.selector, [...NODE_FLAGS, ...old]);
      const d1 = await exportOnce(dir, kind, full.path, full.info.subject.selector, [...NODE_FLAGS, ...old]);
      row(`${kind} old-space 128: peak RSS 1/4, 1x`, `${fmt.mb(dq.peakRssMB)}, ${fmt.mb(d1.peakRssMB)}`, `${pct(d1.peakRssMB / dq.peakRssMB - 1)}, wall ${fmt.s(d1.wallS)}`, d1.peakRssMB < TARGET_MB && d1.peakRssMB / dq.peakRssMB - 1 <= GROWTH);
      for (const flags of [['--max-semi-space-size=4'], [...old, '--max-semi-space-size=4']]) {
        const d = await exportOnce(dir, kind, full.path, full.info.subject.selector, [...NODE_FLAGS, ...flags]);
        row(`${kind} 1x ${flags.map((x) => x.replace(/^--max-(\w+)-space-size/, '$1')).join(' ')}: peak RSS`, fmt.mb(d.peakRssMB), `wall ${fmt.s(d.wallS)}`, d.peakRssMB < TARGET_MB);
      }
    }
  }
  row('load average after (1/5/15 min)', load());
  return results;
}

