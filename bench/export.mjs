// Issue: export 1,000,000 messages and > 1 GB of attachments; compare with Info-ZIP `zip -r`,
// time `handover verify`, and check peak RSS at 1x and 10x the data.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { handover, measure, must, row, fmt, has, viewContext } from './lib.mjs';
import { createDemoSource, XmlView } from '@handover/exporter';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const BYTES = Number(process.env.BENCH_ATTACHMENT_BYTES ?? 1_250_000_000);

/** Message XML on one core: the demo generator feeding the XML view, with a sink that only counts. */
async function xmlThroughput() {
  const source = createDemoSource({ messages: MESSAGES, attachmentBytes: 0 });
  const member = await source.findMember('alice');
  let bytes = 0;
  const sink = { add: async (_p, content) => { bytes += typeof content === 'string' ? Buffer.byteLength(content) : content instanceof Uint8Array ? content.byteLength : 0; if (typeof content !== 'string' && content.resume) content.resume(); } };
  const convs = [];
  for await (const c of source.conversations(member.id)) convs.push(c);
  // Generator alone, to separate its cost from the XML writer's.
  let t0 = performance.now();
  let n = 0;
  for (const c of convs) for await (const _m of source.messages(c)) n++;
  const genS = (performance.now() - t0) / 1000;
  const view = new XmlView();
  await view.begin(viewContext(member, sink));
  t0 = performance.now();
  for (const c of convs) {
    await view.conversationStart(c);
    let k = 0;
    for await (const m of source.messages(c)) {
      await view.message(m);
      k++;
    }
    await view.conversationEnd(c, k);
  }
  const totalS = (performance.now() - t0) / 1000;
  return { n, genS, totalS, xmlS: totalS - genS, bytes };
}

export async function benchExport(dir) {
  console.log(`\n== export: ${MESSAGES.toLocaleString('en-US')} messages, ${(BYTES / 1e9).toFixed(1)} GB of attachments ==`);
  mkdirSync(dir, { recursive: true });

  const x = await xmlThroughput();
  row('message XML, one core (generator + writer)', fmt.rate(x.n, x.totalS, 'msg'));
  row('message XML, writer alone', fmt.rate(x.n, x.xmlS, 'msg'), '>= 150,000 msg/s', x.n / x.xmlS >= 150_000);

  const archive = join(dir, 'bench.zip');
  rmSync(archive, { force: true });
  const src = `demo:messages=${MESSAGES},attachmentBytes=${BYTES}`;
  const e = must(await handover(['export', '--member', 'alice', '--source', src, '--out', archive, '--no-encrypt', '--include-shared-files', '--no-html', '--json']), 'export');
  const result = JSON.parse(e.stdout);
  const size = statSync(archive).size;
  const payload = result.counts.fileBytes;
  row('export wall time', fmt.s(e.wallS));
  row('export messages/s', fmt.rate(result.counts.messages, e.wallS, 'msg'));
  row('export MB/s (archive bytes)', fmt.rate(size / 1e6, e.wallS, 'MB'));
  row('export peak RSS', fmt.mb(e.peakRssMB), '< 200 MB', e.peakRssMB < 200);
  row('attachments in archive', `${(payload / 1e9).toFixed(2)} GB`, '>= 1 GB', payload >= 1e9);

  // Baseline: the same XML and files, zipped by Info-ZIP with media stored.
  const tree = join(dir, 'tree');
  rmSync(tree, { recursive: true, force: true });
  must(await measure('unzip', ['-q', archive, '-d', tree]), 'unzip');
  const base = join(dir, 'baseline.zip');
  rmSync(base, { force: true });
  const z = must(await measure('zip', ['-q', '-r', '-n', '.png:.mp4:.zip:.pdf:.jpg:.gz', base, '.'], { cwd: tree }), 'zip -r');
  rmSync(tree, { recursive: true, force: true });
  row('baseline `zip -r` (media stored)', fmt.s(z.wallS));
  row('export / zip', `${(e.wallS / z.wallS).toFixed(2)}x`, '<= 1.2x', e.wallS <= 1.2 * z.wallS);

  const v = await handover(['verify', archive, '--json']);
  const report = JSON.parse(v.stdout);
  row('verify wall time', fmt.s(v.wallS), '', undefined);
  row('verify / export', `${(v.wallS / e.wallS).toFixed(2)}x`, '<= 2x', report.ok && v.wallS <= 2 * e.wallS);
  row('verify peak RSS', fmt.mb(v.peakRssMB));
  rmSync(base, { force: true });

  if (process.env.BENCH_SKIP_10X !== '1') {
    const big = join(dir, 'bench10.zip');
    rmSync(archive, { force: true });
    const e10 = must(await handover(['export', '--member', 'alice', '--source', `demo:messages=${MESSAGES * 10},attachmentBytes=${BYTES * 10}`, '--out', big, '--no-encrypt', '--include-shared-files', '--no-html', '--json']), 'export 10x');
    rmSync(big, { force: true });
    const growth = e10.peakRssMB / e.peakRssMB - 1;
    row('export 10x: wall time', fmt.s(e10.wallS));
    row('export 10x: peak RSS', `${fmt.mb(e10.peakRssMB)} (${(growth * 100).toFixed(0)}%)`, 'within 10% of 1x', growth <= 0.1 && e10.peakRssMB < 200);
  }
  rmSync(archive, { force: true });
  return { archive };
}

export { has };
