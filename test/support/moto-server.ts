import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

/**
 * A throwaway S3 for tests: `moto_server` on a free loopback port. It keeps everything in
 * memory, so a restart comes back empty.
 */
export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
  /** SIGKILLs the server's process group at once, to simulate a crash mid-request. */
  kill(): void;
  /** Starts a fresh (empty) server on the same port, after a stop or kill. */
  restart(): Promise<void>;
}

/** Environment the AWS SDK needs to talk to moto; `AWS_ENDPOINT_URL_S3` is read by the SDK itself. */
export function motoEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: endpoint,
  };
}

/** Asks the OS for a free port. Another process could take it before moto binds; startMotoServer retries. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port the OS assigned'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Negative pid: the whole group, so the pyenv shim's python child dies too.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

interface Spawned {
  child: ChildProcess;
  output(): string;
}

async function spawnMoto(port: number): Promise<Spawned> {
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  // moto logs every request; an undrained pipe would fill and freeze the server mid-test.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const failure = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 100, undefined))]);
    if (failure !== undefined) throw new Error(`could not start moto_server (is it on PATH?): ${failure.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}) before answering on ${endpoint}:\n${tail}`);
    }
    if (await answers(endpoint)) return { child, output: () => tail };
    if (Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 60 s:\n${tail}`);
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
  await exited(child);
  clearTimeout(timer);
}

export async function startMotoServer(): Promise<MotoServer> {
  let spawned: Spawned | undefined;
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && spawned === undefined; attempt++) {
    port = await freePort();
    try {
      spawned = await spawnMoto(port);
    } catch (err) {
      lastError = err;
    }
  }
  if (spawned === undefined) throw lastError;
  let current: Spawned = spawned;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    stop: () => stopChild(current.child),
    kill: () => killGroup(current.child, 'SIGKILL'),
    async restart() {
      await stopChild(current.child);
      current = await spawnMoto(port);
    },
  };
}

/**
 * Creates a bucket with a plain unsigned request; moto does not check signatures, and this
 * keeps the test support free of SDK imports the e2e package does not declare.
 */
export async function createBucket(endpoint: string, name: string, options: { objectLock?: boolean } = {}): Promise<void> {
  const res = await fetch(`${endpoint}/${name}`, {
    method: 'PUT',
    headers: options.objectLock ? { 'x-amz-bucket-object-lock-enabled': 'true' } : {},
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`creating bucket '${name}' on ${endpoint} failed: HTTP ${res.status}\n${text}`);
}

function xmlValues(xml: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    out.push(
      (m[1] ?? '')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, '&'),
    );
  }
  return out;
}

/** Keys of the multipart uploads still open in a bucket (under `prefix`): what an aborted put must not leave. */
export async function listMultipartUploads(endpoint: string, bucket: string, prefix = ''): Promise<string[]> {
  const res = await fetch(`${endpoint}/${bucket}?uploads&prefix=${encodeURIComponent(prefix)}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`listing multipart uploads of '${bucket}' failed: HTTP ${res.status}\n${text}`);
  const uploads = text.split('<Upload>').slice(1);
  return uploads.flatMap((u) => xmlValues(u, 'Key'));
}

/** Writes an object directly, bypassing the store (e.g. a console-style `folder/` marker). */
export async function putRawObject(endpoint: string, bucket: string, key: string, body: string): Promise<void> {
  const res = await fetch(`${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, { method: 'PUT', body });
  const text = await res.text();
  if (!res.ok) throw new Error(`raw put of '${key}' failed: HTTP ${res.status}\n${text}`);
}

/** A misbehaving hop in front of moto. */
export interface FaultyProxy {
  endpoint: string;
  /** Requests answered with a fault so far. */
  readonly faults: number;
  /** Requests passed through to moto. */
  readonly forwarded: number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy that spoils the first `count` requests, then forwards everything to `target`.
 * `slowdown` answers 503 SlowDown the way S3 throttles; `reset` drops the connection.
 */
export async function startFaultyProxy(
  target: string,
  options: { count: number; fault: 'slowdown' | 'reset' },
): Promise<FaultyProxy> {
  const upstream = new URL(target);
  let faults = 0;
  let forwarded = 0;
  const server = http.createServer((req, res) => {
    if (faults < options.count) {
      faults++;
      // Read the whole request first: answering mid-upload would turn the 503 into a reset.
      req.resume();
      req.once('end', () => {
        if (options.fault === 'reset') {
          req.socket.destroy();
          return;
        }
        const body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
        res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    forwarded++;
    const headers = { ...req.headers };
    // Node already answered 100-continue to the client; moto must not wait for a second body handshake.
    delete headers['expect'];
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get faults() {
      return faults;
    },
    get forwarded() {
      return forwarded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
