import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths pino blanks before a record is written. Key material must never reach a log,
 * whatever object a caller happens to pass.
 */
export const REDACT_PATHS = [
  'key', '*.key', 'secret', '*.secret', 'identity', '*.identity', 'masterKey', '*.masterKey',
  'passphrase', '*.passphrase', 'password', '*.password', 'token', '*.token',
  'credentials', '*.credentials', 'secretAccessKey', '*.secretAccessKey', 'authorization', '*.authorization',
];

export interface LoggerConfig {
  /** pino level; `silent` turns logging off. Default `info`, or `HANDOVER_LOG_LEVEL`. */
  level?: string;
  /** Where records go. Default: standard error, so that stdout stays for command output. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? process.env['HANDOVER_LOG_LEVEL'] ?? 'warn',
    base: { name: 'handover' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, (config.destination ?? process.stderr) as DestinationStream);
}
