import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * The config file (`handover.config.json`, `.yaml` or `.yml` in the working directory,
 * or the file named by `--config` / `HANDOVER_CONFIG`). Every value can also come from a
 * flag or the environment; precedence is flag, environment, file, default.
 */
export const configSchema = z
  .object({
    /** Where archives, keys, holds and audit records live: a directory or `s3://bucket/prefix`. */
    store: z.string().min(1).optional(),
    /** The default source: `demo`, `slack:<path>`, `mattermost:<path>`. */
    source: z.string().min(1).optional(),
    /** pino level: fatal, error, warn, info, debug, trace, silent. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    /** File holding the master key that wraps every subject key (env HANDOVER_MASTER_KEY takes the key itself). */
    masterKeyFile: z.string().min(1).optional(),
    /** Who is acting, recorded in the audit log; default the OS user. */
    actor: z.string().min(1).optional(),
    /** Retention classes and overrides; validated by @handover/retention. */
    retention: z.unknown().optional(),
  })
  .strict();

export type HandoverConfig = z.infer<typeof configSchema>;

const DEFAULT_NAMES = ['handover.config.json', 'handover.config.yaml', 'handover.config.yml'];

/** `path: message` lines, one per problem, as users should see them. */
export function formatZodIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return `${path || '(root)'}: ${i.message}`;
    })
    .join('\n');
}

export interface LoadedConfig {
  config: HandoverConfig;
  /** The file read, if any. */
  file?: string;
}

/** Reads and validates the config file; a missing default file is not an error, a missing named one is. */
export function loadConfig(options: { file?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const named = options.file ?? env['HANDOVER_CONFIG'];
  let file: string | undefined;
  if (named) {
    file = resolve(cwd, named);
    if (!existsSync(file)) throw new ConfigError(`config file '${file}' does not exist; check --config or HANDOVER_CONFIG`);
  } else {
    file = DEFAULT_NAMES.map((n) => resolve(cwd, n)).find((p) => existsSync(p));
  }
  if (!file) return { config: {} };
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file '${file}' is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(`config file '${file}' is invalid:\n${formatZodIssues(parsed.error)}`, { cause: parsed.error });
  }
  return { config: parsed.data, file };
}
