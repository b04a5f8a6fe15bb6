import type { Store } from './store.js';
import type { S3Store, S3StoreOptions } from './s3-store.js';
import { BUCKET_NAME, MAX_PART_SIZE, MIN_PART_SIZE, normalizeS3Prefix, positiveInt } from './s3-config.js';
import { ConfigError } from '../errors.js';

/*
 * The AWS SDK costs about 25 MB of memory and 0.3 s at every start, and most runs use
 * a local store. This front builds an S3 store whose SDK is loaded on its first request;
 * location errors (bucket name, prefix) are still reported at once.
 */

type S3Module = typeof import('./s3-store.js');
let loading: Promise<S3Module> | undefined;
const load = (): Promise<S3Module> => (loading ??= import('./s3-store.js'));

const targets = new WeakMap<Store, () => Promise<S3Store>>();

/** An S3 / MinIO store (see `S3StoreOptions`); the SDK loads on first use. */
export function createS3Store(options: S3StoreOptions): S3Store {
  if (!BUCKET_NAME.test(options.bucket ?? '')) {
    throw new ConfigError(
      `invalid S3 bucket name '${options.bucket}': use 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit`,
    );
  }
  const prefix = normalizeS3Prefix(options.prefix);
  positiveInt('partSize', options.partSize, MIN_PART_SIZE, MAX_PART_SIZE);
  positiveInt('queueSize', options.queueSize, 1, 64);
  positiveInt('maxAttempts', options.maxAttempts, 1, 20);
  let real: Promise<S3Store> | undefined;
  const target = (): Promise<S3Store> => (real ??= load().then((m) => m.createS3Store(options)));
  const store: S3Store = {
    kind: 's3',
    bucket: options.bucket,
    prefix,
    url: `s3://${options.bucket}/${prefix}`,
    put: async (key, body, o) => (await target()).put(key, body, o),
    get: async (key, o) => (await target()).get(key, o),
    head: async (key) => (await target()).head(key),
    list: (p, o) => ({
      async *[Symbol.asyncIterator]() {
        yield* (await target()).list(p, o);
      },
    }),
    delete: async (keys) => (await target()).delete(keys),
    deleteAllVersions: async (keys) => (await target()).deleteAllVersions(keys),
    setTags: async (key, tags) => (await target()).setTags(key, tags),
    setLegalHold: async (key, on) => (await target()).setLegalHold(key, on),
    close: async () => {
      if (real) await (await real).close();
    },
  };
  targets.set(store, target);
  return store;
}

/** A presigned GET URL for an object of an S3 store (at most 7 days). */
export async function presignGet(store: Store, key: string, expiresInSeconds: number): Promise<string> {
  const m = await load();
  const target = targets.get(store);
  return m.presignGet(target ? await target() : store, key, expiresInSeconds);
}
