import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFsStore,
  createMemoryStore,
  createS3Store,
  openStore,
  presignGet,
  type S3Store,
} from '@handover/core';
import {
  createBucket,
  listMultipartUploads,
  motoEnv,
  putRawObject,
  startFaultyProxy,
  startMotoServer,
  type MotoServer,
} from './support/moto-server.js';
import { getObjectLegalHold, s3Http } from './support/s3-http.js';
import { describeStoreContract, readAll, rejection } from './support/store-contract.js';

const MiB = 1024 * 1024;

// Credentials and region for every S3 store in this file; each moto's endpoint is set where it starts.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });

/** Every file under `dir` whose name marks a write in progress. */
async function partialFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.name.includes('.partial-')).map((e) => path.join(e.parentPath, e.name));
}

describeStoreContract('fs', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'handover-store-'));
  return {
    store: createFsStore({ root: path.join(root, 'data') }),
    cleanup: () => rm(root, { recursive: true, force: true }),
    leftovers: () => partialFiles(root),
  };
});

describeStoreContract('memory', async () => ({ store: createMemoryStore(), cleanup: async () => undefined }), {
  deleteRequests: (n) => Math.ceil(n / 1000),
});

describe('S3 store against moto', () => {
  let moto: MotoServer;
  const bucket = 'handover-contract';
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    moto = await startMotoServer();
    // Configured the standard AWS way; the SDK reads these itself.
    Object.assign(process.env, motoEnv(moto.endpoint));
    delete process.env['HANDOVER_S3_FORCE_PATH_STYLE'];
    await createBucket(moto.endpoint, bucket);
  });

  afterAll(async () => {
    process.env = savedEnv;
    await moto?.stop();
  });

  /** A fresh prefix per test, so tests share the bucket without seeing each other. */
  function prefixedStore(): { store: S3Store; prefix: string } {
    const prefix = `t-${randomUUID()}/`;
    return { store: createS3Store({ bucket, prefix }), prefix };
  }

  describeStoreContract(
    's3 (moto)',
    async () => {
      const { store, prefix } = prefixedStore();
      return {
        store,
        cleanup: () => store.close(),
        leftovers: () => listMultipartUploads(moto.endpoint, bucket, prefix),
      };
    },
    { multipartEtag: true, deleteRequests: (n) => Math.ceil(n / 1000) },
  );

  it('reads its location from AWS_ENDPOINT_URL_S3 and picks path-style addressing for it', async () => {
    // Virtual-hosted style would send this to <bucket>.127.0.0.1, which does not resolve.
    const store = openStore(`s3://${bucket}/via-env`);
    expect(store.url).toBe(`s3://${bucket}/via-env/`);
    await store.put('a.txt', 'through the env');
    const whole = createS3Store({ bucket });
    const keys: string[] = [];
    for await (const e of whole.list('via-env/')) keys.push(e.key);
    expect(keys).toEqual(['via-env/a.txt']);
    expect((await readAll(await whole.get('via-env/a.txt'))).toString()).toBe('through the env');
    await store.close();
    await whole.close();
  });

  it('aborts an open multipart upload when the signal fires mid-transfer', async () => {
    const { store, prefix } = prefixedStore();
    const controller = new AbortController();
    let sawMultipart = false;
    const body = new Readable({
      read() {
        this.push(randomBytes(256 * 1024));
      },
    });
    const put = store.put('mpu/aborted.bin', body, {
      signal: controller.signal,
      onProgress: (n) => {
        if (n >= 20 * MiB && !controller.signal.aborted) controller.abort();
      },
    });
    // Watch the server side while the put runs: a multipart upload must actually be open.
    const watcher = (async () => {
      while (!controller.signal.aborted) {
        if ((await listMultipartUploads(moto.endpoint, bucket, prefix)).length > 0) sawMultipart = true;
        await new Promise((r) => setImmediate(r));
      }
    })();
    await expect(put).rejects.toMatchObject({ code: 'E_ABORTED' });
    await watcher;
    expect(sawMultipart).toBe(true);
    expect(await listMultipartUploads(moto.endpoint, bucket, prefix)).toEqual([]);
    expect(await store.head('mpu/aborted.bin')).toBeUndefined();
    await store.close();
  });

  it('decides a create-only multipart put at CompleteMultipartUpload and leaves no upload open', async () => {
    const { store: small, prefix } = prefixedStore();
    const store = createS3Store({ bucket, prefix, partSize: 5 * MiB });
    // Both puts pass the early HEAD while the key is absent; only If-None-Match on the
    // final request can stop the second one.
    const bodies = [new PassThrough(), new PassThrough()];
    const started = bodies.map(() => {
      let resolve!: () => void;
      return { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
    });
    const puts = bodies.map((body, i) =>
      store.put('mpu/once.bin', body, {
        ifNoneMatch: true,
        metadata: { who: String(i) },
        onProgress: (n) => {
          if (n >= 6 * MiB) started[i]!.resolve();
        },
      }),
    );
    for (const body of bodies) for (let i = 0; i < 24; i++) body.write(randomBytes(256 * 1024));
    await Promise.all(started.map((s) => s.promise));
    // The first part is handed over; wait until the server has opened both uploads.
    while ((await listMultipartUploads(moto.endpoint, bucket, prefix)).length < 2) await new Promise((r) => setTimeout(r, 20));

    bodies[0]!.end(randomBytes(1024));
    expect((await puts[0]!).etag).toMatch(/-2$/);
    bodies[1]!.end(randomBytes(1024));
    await expect(puts[1]!).rejects.toMatchObject({ code: 'E_EXISTS' });

    expect(await small.head('mpu/once.bin')).toMatchObject({ size: 6 * MiB + 1024, metadata: { who: '0' } });
    expect(await listMultipartUploads(moto.endpoint, bucket, prefix)).toEqual([]);
    await store.close();
    await small.close();
  });

  it('places and lifts an Object Lock legal hold on a bucket with object lock; a bucket without it reports false', async () => {
    const lockBucket = 'handover-contract-lock';
    await createBucket(moto.endpoint, lockBucket, { objectLock: true });
    const store = createS3Store({ bucket: lockBucket, prefix: `t-${randomUUID()}` });
    const s3 = s3Http(moto.endpoint);
    try {
      await store.put('held/a', 'evidence', { tags: { 'handover-class': 'export-download' } });
      expect(await store.setLegalHold('held/a', true)).toBe(true);
      expect(await getObjectLegalHold(s3, lockBucket, `${store.prefix}held/a`)).toBe('ON');
      // Permanent removal of the locked version is refused.
      const versions = await store.deleteAllVersions(['held/a']);
      expect(versions.errors.map((e) => e.key)).toEqual(['held/a']);
      expect(await store.setLegalHold('held/a', false)).toBe(true);
      expect(await getObjectLegalHold(s3, lockBucket, `${store.prefix}held/a`)).toBe('OFF');
      expect((await store.deleteAllVersions(['held/a'])).errors).toEqual([]);
      // (A missing key is not asked here: moto answers it with an HTTP 500, S3 with NoSuchKey.)

      const { store: plain } = prefixedStore();
      await plain.put('x', 'y');
      expect(await plain.setLegalHold('x', true)).toBe(false);
      await plain.close();
    } finally {
      await store.close();
    }
  });

  it('hides foreign keys it could not read back, such as console folder markers', async () => {
    const { store, prefix } = prefixedStore();
    await store.put('real/file', 'x');
    await putRawObject(moto.endpoint, bucket, `${prefix}real/folder/`, '');
    const keys: string[] = [];
    for await (const e of store.list('')) keys.push(e.key);
    expect(keys).toEqual(['real/file']);
    await store.close();
  });

  it('retries through 503 SlowDown answers', async () => {
    const proxy = await startFaultyProxy(moto.endpoint, { count: 2, fault: 'slowdown' });
    const store = createS3Store({ bucket, prefix: `retry-${randomUUID()}`, endpoint: proxy.endpoint, maxAttempts: 5 });
    try {
      await store.put('slow.txt', 'eventually');
      expect(proxy.faults).toBe(2);
      expect(proxy.forwarded).toBeGreaterThanOrEqual(1);
      expect((await readAll(await store.get('slow.txt'))).toString()).toBe('eventually');
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('retries multipart parts through dropped connections', async () => {
    const proxy = await startFaultyProxy(moto.endpoint, { count: 3, fault: 'reset' });
    const store = createS3Store({ bucket, prefix: `reset-${randomUUID()}`, endpoint: proxy.endpoint, partSize: 5 * MiB });
    try {
      const data = randomBytes(11 * MiB);
      const put = await store.put('reset.bin', Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]));
      expect(put.etag).toMatch(/-3$/);
      expect(proxy.faults).toBe(3);
      expect((await readAll(await store.get('reset.bin'))).equals(data)).toBe(true);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('gives up after maxAttempts with an error that names the object', async () => {
    const proxy = await startFaultyProxy(moto.endpoint, { count: 1_000, fault: 'slowdown' });
    const store = createS3Store({ bucket, prefix: 'never', endpoint: proxy.endpoint, maxAttempts: 2 });
    try {
      const err = await rejection(store.put('throttled.txt', 'x'));
      expect(err).toMatchObject({ code: 'E_STORE', name: 'StoreError' });
      expect(err.message).toContain(`s3://${bucket}/never/throttled.txt`);
      expect(proxy.faults).toBe(2);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('presigns GET URLs that fetch the object, up to 7 days', async () => {
    const { store } = prefixedStore();
    const payload = randomBytes(4096);
    await store.put('share/archive.zip', payload);
    const url = await presignGet(store, 'share/archive.zip', 600);
    expect(url).toContain('X-Amz-Signature=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(payload)).toBe(true);

    expect(await presignGet(store, 'share/archive.zip', 604_800)).toContain('X-Amz-Expires=604800');
    await expect(presignGet(store, 'share/archive.zip', 604_801)).rejects.toMatchObject({ code: 'E_PRESIGN_EXPIRY' });
    await expect(presignGet(store, 'share/archive.zip', 0)).rejects.toMatchObject({ code: 'E_PRESIGN_EXPIRY' });
    await expect(presignGet(store, 'share/missing.zip', 60)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await expect(presignGet(createMemoryStore(), 'share/archive.zip', 60)).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    await store.close();
  });
});

describe('S3 store when the server dies mid-upload', () => {
  let moto: MotoServer;
  const bucket = 'handover-crash';

  beforeAll(async () => {
    moto = await startMotoServer();
    await createBucket(moto.endpoint, bucket);
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('rejects with a StoreError naming the bucket and key', async () => {
    const store = createS3Store({
      bucket,
      prefix: 'crash',
      endpoint: moto.endpoint,
      partSize: 5 * MiB,
      maxAttempts: 2,
    });
    let killed = false;
    const body = new Readable({
      read() {
        this.push(randomBytes(256 * 1024));
      },
    });
    const put = store.put('big/interrupted.bin', body, {
      onProgress: (n) => {
        if (n >= 12 * MiB && !killed) {
          killed = true;
          moto.kill();
        }
      },
    });
    const err = await rejection(put);
    expect(killed).toBe(true);
    expect(err).toMatchObject({ name: 'StoreError', code: 'E_STORE' });
    expect(err.message).toContain(bucket);
    expect(err.message).toContain('crash/big/interrupted.bin');
    expect(err.cause).toBeDefined();
    body.destroy();

    // moto keeps state in memory: after a restart the bucket is gone, and with it any trace.
    await moto.restart();
    await createBucket(moto.endpoint, bucket);
    expect(await store.head('big/interrupted.bin')).toBeUndefined();
    await store.close();
  });
});
