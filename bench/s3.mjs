// Issue: an export of at least 2 GB into S3 (moto on loopback) with peak RSS under 250 MB,
// and the encryption step's throughput next to `openssl speed -evp chacha20-poly1305`
// (target: at least 600 MB/s). 2.8 GB of demo attachments make a stored object of about
// 2.2 GB: some attachments compress, and a few are not part of the export.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { freemem } from 'node:os';
import { measureEncryptThroughput } from '@handover/core';
import { handover, has, must, row, fmt } from './lib.mjs';

const MESSAGES = Number(process.env.BENCH_S3_MESSAGES ?? 500_000);
const BYTES = Number(process.env.BENCH_S3_ATTACHMENT_BYTES ?? 2_800_000_000);
const ENCRYPT_BYTES = Number(process.env.BENCH_ENCRYPT_BYTES ?? 1e9);
const BUCKET = 'handover-bench';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** moto_server on a free loopback port, in its own process group so that it can be stopped whole. */
async function startMoto() {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  process.once('exit', stop);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await (await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) })).arrayBuffer();
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`moto_server did not answer on ${endpoint}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { endpoint, pid: child.pid, stop };
}

/** Resident memory of a process tree's processes, MB (moto_server may sit behind a pyenv shim). */
function rssMB(pid) {
  const r = spawnSync('ps', ['-o', 'rss=', '-g', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').reduce((s, l) => s + (Number(l.trim()) || 0), 0) / 1024;
}

/** `openssl speed -evp chacha20-poly1305` on 64 KiB blocks (age's chunk size), in MB/s (10^6 bytes). */
function opensslSpeed() {
  const r = spawnSync('openssl', ['speed', '-evp', 'chacha20-poly1305', '-bytes', '65536', '-seconds', '2'], { encoding: 'utf8' });
  // Last line: "ChaCha20-Poly1305   1887436.80k" (1000s of bytes per second).
  const m = /chacha20-poly1305\s+([\d.]+)k\s*$/im.exec(r.stdout ?? '');
  return m ? Number(m[1]) / 1000 : undefined;
}

export async function benchS3() {
  console.log(`\n== export to S3 (moto on loopback): ${MESSAGES.toLocaleString('en-US')} messages, ${(BYTES / 1e9).toFixed(1)} GB of attachments, encrypted ==`);

  // Encryption alone first, while the machine is quiet.
  const enc = await measureEncryptThroughput(ENCRYPT_BYTES);
  const ossl = has('openssl') ? opensslSpeed() : undefined;
  row('encryption (age v1 stream, one recipient)', fmt.rate(enc.bytes / 1e6, enc.seconds, 'MB'), '>= 600 MB/s', enc.mbPerSec >= 600);
  row('openssl speed -evp chacha20-poly1305 (64 KiB)', ossl === undefined ? 'n/a' : `${ossl.toLocaleString('en-US', { maximumFractionDigits: 0 })} MB/s`);
  if (ossl !== undefined) row('encryption / openssl', `${((enc.mbPerSec / ossl) * 100).toFixed(0)}%`);

  if (!has('moto_server')) {
    console.log('  (skipped the S3 export: moto_server is not installed; pip install "moto[server]")');
    return;
  }
  // moto keeps every object in memory; a 2 GB upload needs several GB of RAM in moto itself.
  if (freemem() < 8e9) console.log(`  (warning: only ${(freemem() / 1e9).toFixed(1)} GB of RAM free; moto holds the whole object in memory)`);
  const moto = await startMoto();
  try {
    must(await measureCreateBucket(moto.endpoint), 'create bucket');
    const env = {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      HANDOVER_MASTER_KEY: randomBytes(32).toString('base64'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const src = `demo:messages=${MESSAGES},attachmentBytes=${BYTES}`;
    const e = must(
      await handover(['export', '--member', 'alice', '--source', src, '--include-shared-files', '--no-html', '--store', `s3://${BUCKET}/bench`, '--json'], { env }),
      'export to S3',
    );
    const result = JSON.parse(e.stdout);
    row('S3 export wall time', fmt.s(e.wallS));
    row('S3 export MB/s (stored object)', fmt.rate(result.bytes / 1e6, e.wallS, 'MB'));
    row('S3 object size', `${(result.bytes / 1e9).toFixed(2)} GB`, '>= 2 GB', result.bytes >= 2e9);
    row('S3 export peak RSS', fmt.mb(e.peakRssMB), '< 250 MB', e.peakRssMB < 250);
    row('moto_server RSS after the upload', fmt.mb(rssMB(moto.pid)));
  } finally {
    moto.stop();
  }
}

async function measureCreateBucket(endpoint) {
  const res = await fetch(`${endpoint}/${BUCKET}`, { method: 'PUT' });
  return { code: res.ok ? 0 : 1, stdout: '', stderr: await res.text() };
}
