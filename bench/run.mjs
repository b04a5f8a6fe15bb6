#!/usr/bin/env node
// `pnpm bench [name ...]`: runs the benchmarks (all by default) and prints each
// figure next to its target. Nothing here is a test: targets are judged by reading.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchExport } from './export.mjs';
import { benchRetention } from './retention.mjs';
import { benchHtml } from './html.mjs';
import { benchSources } from './sources.mjs';
import { benchS3 } from './s3.mjs';

const dir = process.env.BENCH_DIR ?? join(tmpdir(), 'handover-bench');
mkdirSync(dir, { recursive: true });
const wanted = process.argv.slice(2);
const all = { export: benchExport, html: benchHtml, retention: benchRetention, sources: benchSources, s3: benchS3 };
console.log(`handover benchmarks — node ${process.version}, ${new Date().toISOString()}, work dir ${dir}`);
console.log(`  ${'figure'.padEnd(44)} ${'measured'.padEnd(22)} ${'target'.padEnd(22)}`);
for (const [name, fn] of Object.entries(all)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  await fn(join(dir, name));
}
