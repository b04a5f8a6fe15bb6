import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { InputError, loadConfig, type HandoverConfig, createLogger, type Logger } from '@handover/core';
import { createDemoSource, createMattermostSource, createSlackSource, DEMO_DEFAULTS, demoStateInStore, type Source } from '@handover/exporter';
import type { Store } from '@handover/core';

/** Options every command accepts. */
export interface GlobalOptions {
  config?: string;
  store?: string;
  logLevel?: string;
}

export interface CommandContext {
  config: HandoverConfig;
  logger: Logger;
  /** Store location after flag → environment → config file → default. */
  storeLocation: string;
  actor: string;
  env: NodeJS.ProcessEnv;
}

export const DEFAULT_STORE_DIR = 'handover-data';

export function createContext(global: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const { config } = loadConfig({ ...(global.config ? { file: global.config } : {}), env });
  const storeLocation =
    global.store ?? env['HANDOVER_STORE'] ?? config.store ?? resolve(env['HANDOVER_HOME'] ?? DEFAULT_STORE_DIR);
  const logger = createLogger({ level: global.logLevel ?? env['HANDOVER_LOG_LEVEL'] ?? config.logLevel ?? 'warn' });
  const actor = env['HANDOVER_ACTOR'] ?? config.actor ?? safeUser();
  return { config, logger, storeLocation, actor, env };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * `demo`, `demo:<seed>`, `slack:<zip|dir>`, `mattermost:<zip|jsonl>`. With a store, the
 * demo workspace keeps its changes (erasures, revoked grants) there, across runs.
 */
export function openSource(spec: string, options: { skipInvalid?: boolean; store?: Store } = {}): Source {
  const i = spec.indexOf(':');
  const kind = i === -1 ? spec : spec.slice(0, i);
  const arg = i === -1 ? '' : spec.slice(i + 1);
  switch (kind) {
    case 'demo': {
      const sizing = parseDemoOptions(arg);
      return createDemoSource({ ...sizing, ...(options.store ? { state: demoStateInStore(options.store, sizing.seed ?? DEMO_DEFAULTS.seed) } : {}) });
    }
    case 'slack':
      if (!arg) throw new InputError(`source 'slack' needs a path: --source slack:<export.zip | directory>`, { exitCode: 2 });
      return createSlackSource({ path: arg, skipInvalid: options.skipInvalid ?? false });
    case 'mattermost':
      if (!arg) throw new InputError(`source 'mattermost' needs a path: --source mattermost:<export.zip | file.jsonl>`, { exitCode: 2 });
      return createMattermostSource({ path: arg, skipInvalid: options.skipInvalid ?? false });
    default:
      throw new InputError(`unknown source '${spec}': use demo, slack:<path> or mattermost:<path>`, { exitCode: 2 });
  }
}

/**
 * `demo`, `demo:7` (a seed) or `demo:seed=7,messages=1000000,attachmentBytes=1e9`:
 * the demo workspace sized for benchmarks, generated on the fly.
 */
function parseDemoOptions(arg: string): { seed?: number; messages?: number; attachmentBytes?: number } {
  if (!arg) return {};
  const out: { seed?: number; messages?: number; attachmentBytes?: number } = {};
  const allowed = ['seed', 'messages', 'attachmentBytes'] as const;
  for (const part of arg.split(',')) {
    const [k, v] = part.includes('=') ? part.split('=', 2) : ['seed', part];
    const key = allowed.find((a) => a === k);
    const n = Number(v);
    if (!key) throw new InputError(`demo option '${k}' is unknown: use ${allowed.join(', ')} (e.g. demo:seed=7,messages=100000)`, { exitCode: 2 });
    if (!Number.isFinite(n) || n < 0 || (key !== 'attachmentBytes' && !Number.isInteger(n))) {
      throw new InputError(`demo option '${k}=${v}' must be a non-negative ${key === 'attachmentBytes' ? 'number' : 'integer'}`, { exitCode: 2 });
    }
    out[key] = n;
  }
  return out;
}
