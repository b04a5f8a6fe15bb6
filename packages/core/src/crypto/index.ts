export {
  createEncryptStream,
  createDecryptStream,
  encryptBuffer,
  decryptBuffer,
  isAgeFile,
  measureEncryptThroughput,
  CHUNK_SIZE,
  type EncryptStreamOptions,
  type DecryptStreamOptions,
  type ThroughputResult,
} from './age-stream.js';
export { generateIdentity, identityToRecipient, parseIdentityFile } from './age-keys.js';
export {
  AgeKeyError,
  AgeHeaderError,
  AgePayloadError,
  NoIdentityMatchError,
  KeyShreddedError,
  KeyNotFoundError,
  MasterKeyError,
} from './crypto-errors.js';
export {
  loadMasterKey,
  masterKeyIdOf,
  decodeMasterKey,
  MASTER_KEY_BYTES,
  type MasterKey,
  type LoadMasterKeyOptions,
} from './master-key.js';
export {
  createKeyRing,
  type KeyRing,
  type KeyRingOptions,
  type KeyRingEntry,
  type ShredOptions,
  type RotateOptions,
  type RotateResult,
} from './key-ring.js';
