import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectTaggingCommand,
  S3Client,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable, addAbortSignal } from 'node:stream';
import { ConfigError, HandoverError, InputError, NotFoundError, PreconditionFailedError, StoreError, describeError } from '../errors.js';
import { meterBody } from './put-body.js';
import { BUCKET_NAME, MAX_PART_SIZE, MAX_PRESIGN_SECONDS, MiB, MIN_PART_SIZE, normalizeS3Prefix, positiveInt, resolveForcePathStyle } from './s3-config.js';
export { MAX_PRESIGN_SECONDS, normalizeS3Prefix, resolveForcePathStyle };
import {
  assertValidKey,
  type DeleteResult,
  type GetOptions,
  type ListEntry,
  type ListOptions,
  type ObjectInfo,
  type PutOptions,
  type PutResult,
  type Store,
} from './store.js';
import { AbortedError, InvalidRangeError, UnsupportedStoreOperationError } from './store-errors.js';
import {
  assertRangeShape,
  assertValidMetadata,
  assertValidPrefix,
  assertValidTags,
  isValidKey,
  uniqueKeys,
} from './store-rules.js';

const DEFAULT_PART_SIZE = 8 * MiB;
const DEFAULT_QUEUE_SIZE = 2;
const DEFAULT_MAX_ATTEMPTS = 5;
/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;
const MAX_LIST_PAGE = 1000;
/** SigV4 presigned URLs cannot outlive seven days. */

export interface S3StoreOptions {
  /** Bucket name; it must exist. */
  bucket: string;
  /** Key prefix inside the bucket, e.g. `handover/prod`; stored with a trailing `/`. Default: the bucket root. */
  prefix?: string;
  /**
   * A ready client. When given, `region`, `endpoint`, `forcePathStyle`, `maxAttempts` and
   * `retryMode` are ignored and `close()` leaves the client open (it is the caller's).
   */
  client?: S3Client;
  /**
   * Address buckets as `https://host/bucket` instead of `https://bucket.host`. MinIO and
   * most S3-compatible servers need this. Default: `HANDOVER_S3_FORCE_PATH_STYLE` (1/0), else
   * on whenever a custom endpoint is configured (`endpoint`, `AWS_ENDPOINT_URL_S3` or
   * `AWS_ENDPOINT_URL`), else the SDK default (virtual-hosted).
   */
  forcePathStyle?: boolean;
  /** AWS region. Default: the SDK's chain (`AWS_REGION`, the profile's config). */
  region?: string;
  /** Endpoint URL, e.g. `http://127.0.0.1:9000` for MinIO. Default: the SDK's chain (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`), else AWS. */
  endpoint?: string;
  /** Multipart part size in bytes, 5 MiB to 5 GiB. Default 8 MiB. Memory use is about `partSize × (queueSize + 1)`. */
  partSize?: number;
  /** Parts uploaded in parallel. Default 2. */
  queueSize?: number;
  /** Attempts per request, the first included; the SDK backs off between them on 5xx, SlowDown and dropped connections. Default `AWS_MAX_ATTEMPTS`, else 5. */
  maxAttempts?: number;
  /** SDK retry mode. `adaptive` also rate-limits the client after throttling. Default `AWS_RETRY_MODE`, else `standard`. */
  retryMode?: 'standard' | 'adaptive';
}

/**
 * The S3 / MinIO adapter. The credentials need s3:GetObject, s3:PutObject, s3:DeleteObject,
 * s3:ListBucket, s3:GetObjectTagging, s3:PutObjectTagging and s3:AbortMultipartUpload on
 * the prefix (`head` reads tags, so it needs GetObjectTagging too), and s3:PutObjectLegalHold
 * for legal holds on a bucket with Object Lock.
 */
export interface S3Store extends Store {
  readonly kind: 's3';
  readonly bucket: string;
  /** The normalised key prefix: empty or ending in `/`. */
  readonly prefix: string;
  setTags(key: string, tags: Record<string, string>): Promise<void>;
  setLegalHold(key: string, on: boolean): Promise<boolean>;
  deleteAllVersions(keys: readonly string[]): Promise<DeleteResult>;
  close(): Promise<void>;
}

interface S3Internals {
  client: S3Client;
  bucket: string;
  prefix: string;
  describe(key: string): string;
}

/** Lets `presignGet` reach the client without putting it on the public `S3Store` type. */
const internals = new WeakMap<Store, S3Internals>();

export function createS3Store(options: S3StoreOptions): S3Store {
  if (!BUCKET_NAME.test(options.bucket ?? '')) {
    throw new ConfigError(
      `invalid S3 bucket name '${options.bucket}': use 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit`,
    );
  }
  const prefix = normalizeS3Prefix(options.prefix);
  const partSize = positiveInt('partSize', options.partSize, MIN_PART_SIZE, MAX_PART_SIZE) ?? DEFAULT_PART_SIZE;
  const queueSize = positiveInt('queueSize', options.queueSize, 1, 64) ?? DEFAULT_QUEUE_SIZE;
  const maxAttempts = positiveInt('maxAttempts', options.maxAttempts, 1, 20);
  let client = options.client;
  const ownsClient = client === undefined;
  if (client === undefined) {
    const config: S3ClientConfig = {
      // A dead endpoint should fail in seconds, not hang; no overall request timeout, since
      // a reader may legitimately hold a GET stream open while it works.
      requestHandler: { connectionTimeout: 10_000 },
    };
    if (options.region !== undefined) config.region = options.region;
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    const pathStyle = resolveForcePathStyle(options);
    if (pathStyle !== undefined) config.forcePathStyle = pathStyle;
    // Only override the SDK's own AWS_MAX_ATTEMPTS / AWS_RETRY_MODE handling when asked, or to raise its default of 3.
    if (maxAttempts !== undefined) config.maxAttempts = maxAttempts;
    else if (!process.env['AWS_MAX_ATTEMPTS']) config.maxAttempts = DEFAULT_MAX_ATTEMPTS;
    if (options.retryMode !== undefined) config.retryMode = options.retryMode;
    else if (!process.env['AWS_RETRY_MODE']) config.retryMode = 'standard';
    client = new S3Client(config);
  }
  const store = new S3StoreImpl(client, ownsClient, options.bucket, prefix, partSize, queueSize);
  internals.set(store, {
    client,
    bucket: options.bucket,
    prefix,
    describe: (key) => `s3://${options.bucket}/${prefix}${key}`,
  });
  return store;
}

interface AwsErrorLike {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function awsError(err: unknown): { name: string; status: number | undefined } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsErrorLike;
  return { name: e.name ?? e.Code ?? e.code ?? '', status: e.$metadata?.httpStatusCode };
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"+|"+$/g, '');
}

function isMissing(err: unknown): boolean {
  const { name, status } = awsError(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchUpload');
}

class S3StoreImpl implements S3Store {
  readonly kind = 's3' as const;
  readonly url: string;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(
    client: S3Client,
    ownsClient: boolean,
    readonly bucket: string,
    readonly prefix: string,
    partSize: number,
    queueSize: number,
  ) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    this.#partSize = partSize;
    this.#queueSize = queueSize;
    this.url = `s3://${bucket}/${prefix}`;
  }

  #where(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  /** Turns an SDK failure into a Handover error that names the object and keeps the original as `cause`. */
  #error(err: unknown, key: string, action: string): HandoverError {
    if (err instanceof HandoverError) return err;
    const { name, status } = awsError(err);
    const where = this.#where(key);
    if (name === 'PreconditionFailed' || status === 412) return new PreconditionFailedError(key, { cause: err });
    if (name === 'NoSuchBucket') {
      return new StoreError(`${action} ${where} failed: bucket '${this.bucket}' does not exist; create it or fix the store location`, {
        cause: err,
      });
    }
    if (isMissing(err)) return new NotFoundError(`no object ${where}`, { cause: err });
    if (name === 'InvalidRange' || status === 416) {
      return new InvalidRangeError(`${action} ${where} failed: the range starts past the end of the object`, { cause: err });
    }
    if (name === 'AbortError') return new AbortedError(`${action} ${where} was aborted`, { cause: err });
    if (name === 'CredentialsProviderError') {
      return new StoreError(
        `${action} ${where} failed: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`,
        { cause: err, code: 'E_STORE_AUTH' },
      );
    }
    if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || status === 403) {
      return new StoreError(
        `${action} ${where} failed: access denied (${name || status}); check the credentials and the bucket policy`,
        { cause: err, code: 'E_STORE_AUTH' },
      );
    }
    if (name === 'ConditionalRequestConflict' || status === 409) {
      return new StoreError(`${action} ${where} failed: a concurrent conditional write to the same key is in progress; retry`, {
        cause: err,
        code: 'E_CONFLICT',
      });
    }
    return new StoreError(`${action} ${where} failed: ${describeError(err) || name || `HTTP ${status}`}`, { cause: err });
  }

  async put(key: string, body: Readable | Uint8Array | string, options: PutOptions = {}): Promise<PutResult> {
    assertValidKey(key);
    assertValidMetadata(options.metadata);
    assertValidTags(options.tags);
    const { signal } = options;
    const Key = this.prefix + key;
    const aborted = (cause?: unknown) =>
      new AbortedError(`writing ${this.#where(key)} was aborted; nothing was stored`, { cause: cause ?? signal?.reason });
    if (signal?.aborted) throw aborted();
    // Fail before uploading gigabytes; the If-None-Match on the final request is what makes it race-free.
    if (options.ifNoneMatch && (await this.#exists(key))) throw new PreconditionFailedError(key);

    const metered = meterBody(body, options);
    const tags = options.tags ?? {};
    // Tagging travels on PutObject / CreateMultipartUpload, so the object never exists untagged
    // (lib-storage's own `tags` option would tag it afterwards, in a separate request).
    const tagging = Object.entries(tags)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    const upload = new Upload({
      client: this.#client,
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // Failed multipart uploads are aborted, so their parts neither linger nor cost storage.
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key,
        Body: metered.stream,
        ...(options.metadata && Object.keys(options.metadata).length > 0 ? { Metadata: options.metadata } : {}),
        ...(tagging === '' ? {} : { Tagging: tagging }),
        ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
        // lib-storage spreads params into PutObject and CompleteMultipartUpload alike, so
        // create-only holds for both the single-request and the multipart path.
        ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      },
    });
    try {
      // The signal is never passed to upload.abort(): that makes done() reject at once while
      // lib-storage aborts the multipart upload later, in the background. Failing the body
      // instead (meterBody) lets done() return only after AbortMultipartUpload has run.
      const out = await upload.done();
      const etag = unquote(out.ETag);
      return { key, size: metered.bytes(), ...(etag === undefined ? {} : { etag }) };
    } catch (err) {
      if (signal?.aborted) throw aborted(err);
      const sourceError = metered.sourceError();
      if (sourceError !== undefined && (err === sourceError || (err as { cause?: unknown }).cause === sourceError)) {
        throw new StoreError(`writing ${this.#where(key)} failed: reading the body failed: ${describeError(sourceError)}; nothing was stored`, {
          cause: sourceError,
        });
      }
      throw this.#error(err, key, 'writing');
    } finally {
      metered.dispose();
    }
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw this.#error(err, key, 'checking');
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    assertValidKey(key);
    assertRangeShape(key, options.range);
    const { range, signal } = options;
    try {
      const out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end ?? ''}` }),
        }),
        signal === undefined ? {} : { abortSignal: signal },
      );
      const body = out.Body;
      if (!(body instanceof Readable)) {
        throw new StoreError(`reading ${this.#where(key)} failed: the SDK returned no Node.js stream (is a browser HTTP handler configured?)`);
      }
      if (signal !== undefined) addAbortSignal(signal, body);
      return body;
    } catch (err) {
      throw this.#error(err, key, 'reading');
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    const Key = this.prefix + key;
    const [headResult, tagResult] = await Promise.allSettled([
      this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })),
      this.#client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key })),
    ]);
    if (headResult.status === 'rejected') {
      if (isMissing(headResult.reason)) return undefined;
      throw this.#error(headResult.reason, key, 'reading the details of');
    }
    if (tagResult.status === 'rejected') {
      // Deleted between the two requests.
      if (isMissing(tagResult.reason)) return undefined;
      throw this.#error(tagResult.reason, key, 'reading the tags of');
    }
    const h = headResult.value;
    const tags: Record<string, string> = {};
    for (const t of tagResult.value.TagSet ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
    const etag = unquote(h.ETag);
    return {
      key,
      size: h.ContentLength ?? 0,
      lastModified: h.LastModified ?? new Date(0),
      metadata: { ...h.Metadata },
      tags,
      ...(h.ContentType === undefined ? {} : { contentType: h.ContentType }),
      ...(etag === undefined ? {} : { etag }),
    };
  }

  list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    const pageSize = Math.max(1, Math.min(options.pageSize ?? MAX_LIST_PAGE, MAX_LIST_PAGE));
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        assertValidPrefix(prefix);
        const pages = paginateListObjectsV2(
          { client: self.#client, pageSize },
          { Bucket: self.bucket, Prefix: self.prefix + prefix, MaxKeys: pageSize },
        );
        const iterator = pages[Symbol.asyncIterator]();
        for (;;) {
          let page;
          try {
            page = await iterator.next();
          } catch (err) {
            throw self.#error(err, prefix, 'listing');
          }
          if (page.done) return;
          for (const o of page.value.Contents ?? []) {
            if (o.Key === undefined) continue;
            const key = o.Key.slice(self.prefix.length);
            // Console-made "folder" markers (`x/`) and other foreign keys cannot be read back through this port.
            if (!isValidKey(key)) continue;
            yield { key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
          }
        }
      },
    };
  }

  async delete(keys: readonly string[]): Promise<DeleteResult> {
    for (const key of keys) assertValidKey(key);
    const unique = uniqueKeys(keys);
    const result: DeleteResult = { deleted: [], errors: [], requests: 0 };
    for (let i = 0; i < unique.length; i += DELETE_BATCH) {
      const batch = unique.slice(i, i + DELETE_BATCH);
      result.requests++;
      try {
        const out = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((k) => ({ Key: this.prefix + k })), Quiet: true },
          }),
        );
        const failed = new Map<string, string>();
        for (const e of out.Errors ?? []) {
          if (e.Key !== undefined) failed.set(e.Key.slice(this.prefix.length), `${e.Code ?? 'Error'}: ${e.Message ?? 'delete failed'}`);
        }
        for (const k of batch) {
          const message = failed.get(k);
          if (message === undefined) result.deleted.push(k);
          else result.errors.push({ key: k, message });
        }
      } catch (err) {
        // Later batches may still succeed (the SDK already retried this one); report, keep going.
        const message = this.#error(err, batch[0]!, `deleting ${batch.length} objects starting at`).message;
        for (const k of batch) result.errors.push({ key: k, message });
      }
    }
    return result;
  }

  async deleteAllVersions(keys: readonly string[]): Promise<DeleteResult> {
    for (const key of keys) assertValidKey(key);
    const result: DeleteResult = { deleted: [], errors: [], requests: 0 };
    for (const key of uniqueKeys(keys)) {
      const full = this.prefix + key;
      try {
        const versions: { Key: string; VersionId?: string }[] = [];
        let keyMarker: string | undefined;
        let versionMarker: string | undefined;
        do {
          result.requests++;
          const page = await this.#client.send(
            new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: full, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
          );
          for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
            if (v.Key === full) versions.push({ Key: full, ...(v.VersionId ? { VersionId: v.VersionId } : {}) });
          }
          keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
          versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
        } while (keyMarker !== undefined);
        // An unversioned bucket lists the object with VersionId "null"; a plain delete removes it.
        if (versions.length === 0) versions.push({ Key: full });
        for (let i = 0; i < versions.length; i += DELETE_BATCH) {
          result.requests++;
          const out = await this.#client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: versions.slice(i, i + DELETE_BATCH), Quiet: true } }));
          const failed = out.Errors ?? [];
          if (failed.length > 0) throw new Error(failed.map((e) => `${e.Code ?? 'Error'}: ${e.Message ?? 'delete failed'}`).join('; '));
        }
        result.deleted.push(key);
      } catch (err) {
        result.errors.push({ key, message: this.#error(err, key, 'deleting every version of').message });
      }
    }
    return result;
  }

  async setTags(key: string, tags: Record<string, string>): Promise<void> {
    assertValidKey(key);
    assertValidTags(tags);
    try {
      await this.#client.send(
        new PutObjectTaggingCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    } catch (err) {
      throw this.#error(err, key, 'tagging');
    }
  }

  async setLegalHold(key: string, on: boolean): Promise<boolean> {
    assertValidKey(key);
    try {
      // On the current version: the one a lifecycle expiration or a purge would remove.
      await this.#client.send(
        new PutObjectLegalHoldCommand({ Bucket: this.bucket, Key: this.prefix + key, LegalHold: { Status: on ? 'ON' : 'OFF' } }),
      );
      return true;
    } catch (err) {
      const { name, status } = awsError(err);
      const message = (err as { message?: string }).message ?? '';
      // S3, MinIO and moto answer 400 InvalidRequest "Bucket is missing Object Lock Configuration".
      if ((name === 'InvalidRequest' || status === 400) && /object ?lock/i.test(message)) return false;
      throw this.#error(err, key, on ? 'placing a legal hold on' : 'lifting the legal hold of');
    }
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }
}

/**
 * A time-limited HTTPS link to one object of an S3 store, for handing an archive to someone
 * without credentials. Refuses expiries over 7 days (the SigV4 ceiling) and stores that are
 * not S3. With temporary credentials (SSO, an assumed role) the link dies with the session.
 */
export async function presignGet(store: Store, key: string, expiresInSeconds: number): Promise<string> {
  if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
    throw new InputError(
      `a presigned URL can live 1 to ${MAX_PRESIGN_SECONDS} seconds (7 days, the S3 signature limit); got ${expiresInSeconds}. Ask for a shorter expiry`,
      { code: 'E_PRESIGN_EXPIRY', exitCode: 2 },
    );
  }
  const s3 = internals.get(store);
  if (s3 === undefined) {
    throw new UnsupportedStoreOperationError(
      `cannot presign '${key}': ${store.url} is not an S3 store; presigned URLs exist only for S3 / MinIO. Copy the file instead`,
    );
  }
  assertValidKey(key);
  // A link to nothing would only fail later, for someone else; check now. HeadObject alone,
  // not store.head(), so a principal without s3:GetObjectTagging can still share links.
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: s3.prefix + key }));
  } catch (err) {
    if (isMissing(err)) throw new NotFoundError(`cannot presign: no object ${s3.describe(key)}`, { cause: err });
    throw new StoreError(`cannot presign ${s3.describe(key)}: checking that it exists failed: ${describeError(err)}`, { cause: err });
  }
  try {
    return await getSignedUrl(s3.client, new GetObjectCommand({ Bucket: s3.bucket, Key: s3.prefix + key }), {
      expiresIn: expiresInSeconds,
    });
  } catch (err) {
    throw new StoreError(`presigning ${s3.describe(key)} failed: ${describeError(err)}`, { cause: err });
  }
}
