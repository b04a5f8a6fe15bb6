import { ConfigError, describeError } from '../errors.js';
import { assertValidKey } from './store.js';

/*
 * The parts of the S3 adapter that need no AWS SDK, so that validating an `s3://`
 * location does not load the SDK (about 25 MB and 0.3 s of every CLI start).
 */

/** S3 signs URLs for at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Normalises a key prefix to '' or 'a/b/'. */
export function normalizeS3Prefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  try {
    assertValidKey(trimmed);
  } catch (err) {
    throw new ConfigError(`invalid S3 key prefix '${prefix}': ${describeError(err)}`, { cause: err });
  }
  return `${trimmed}/`;
}

function envFlag(name: string, env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name}='${raw}' is not a switch; set it to 1 or 0`);
}

/** The path-style decision described on `S3StoreOptions.forcePathStyle`. */
export function resolveForcePathStyle(
  options: { forcePathStyle?: boolean | undefined; endpoint?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): boolean | undefined {
  if (options.forcePathStyle !== undefined) return options.forcePathStyle;
  const fromEnv = envFlag('HANDOVER_S3_FORCE_PATH_STYLE', env);
  if (fromEnv !== undefined) return fromEnv;
  if (options.endpoint || env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL']) return true;
  return undefined;
}


export const MiB = 1024 * 1024;
/** S3's floor for every multipart part but the last. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;

export function positiveInt(name: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`S3 store option ${name}=${value} is out of range; use an integer from ${min} to ${max}`);
  }
  return value;
}

