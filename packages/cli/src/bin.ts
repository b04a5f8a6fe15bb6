#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 node --max-semi-space-size=4 --max-old-space-size=192 --initial-old-space-size=48
// The heap flags above bound memory: on a large machine V8 otherwise lets garbage grow
// to ~100 MB more before collecting it (measured: a 1M-message export peaks at 241 MB
// without them, 151 MB with them, for 5% more time). The initial old space keeps V8
// from starting a full collection every ~16 MB of buffers (file chunks, XML parts) while
// the heap itself is small: 76 collections become 31, and the export takes ~15% less
// time. MALLOC_ARENA_MAX=2 keeps glibc from giving each zlib and fs thread its own
// malloc arena, whose fragmentation grew peak RSS over a long export (10x the 1M-message
// export: 197 MB without it, 173 MB with it; 1x: 164 / 143 MB; same speed).
// MALLOC_MMAP_THRESHOLD_ fixes the size from which glibc maps memory of its own (64 KiB:
// file chunks, XML parts, zlib state) and returns it when freed. Left to adjust itself,
// the threshold rises after the first large free, and those blocks then fragment the
// heap: memory outside V8 grew by ~25 MB over the 10x export and stays flat with it
// (peak 176 -> 168 MB at 10x, 150 -> 141 MB at 1x, same speed).
// `pnpm handover`, the benchmarks and the tests start the CLI with these same settings,
// read from this line.
import { main } from './main.js';

// The AWS SDK warns on every S3 call that its 2027 releases will need Node 22; the README
// says so once (Node 20 is past end of life), instead of nine lines on every command.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  interrupts++;
  // A second Ctrl-C means "now": temporary files are still removed by their exit handlers.
  if (interrupts > 1) process.exit(130);
  controller.abort(new Error(`received ${signal}`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await main(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
process.exitCode = code;
// Let stdout drain, then leave even if a library kept a handle open.
process.stdout.write('', () => process.exit(code));
