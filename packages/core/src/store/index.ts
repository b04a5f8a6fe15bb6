export * from './store.js';
export * from './store-errors.js';
export { readObject, readStream } from './read-object.js';
export {
  assertValidPrefix,
  assertValidMetadata,
  assertValidTags,
  compareKeys,
  isValidKey,
} from './store-rules.js';
export { createFsStore, type FsStore, type FsStoreOptions } from './fs-store.js';
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type { S3Store, S3StoreOptions } from './s3-store.js';
export { createS3Store, presignGet } from './s3-lazy.js';
export { resolveForcePathStyle, MAX_PRESIGN_SECONDS } from './s3-config.js';
export { parseStoreUrl, openStore, type StoreLocation, type OpenStoreOptions } from './store-url.js';
