import { ConfigError } from '@handover/core';
import { parseRetentionConfig, resolvePolicies, type RetentionClass } from '@handover/retention';
import type { CommandContext } from './context.js';

/** Retention classes: the defaults, overridden by the config file's `retention` section. */
export function policiesOf(ctx: CommandContext): Map<string, RetentionClass> {
  if (ctx.config.retention === undefined) return resolvePolicies();
  try {
    return resolvePolicies(parseRetentionConfig(ctx.config.retention, { root: 'retention' }));
  } catch (err) {
    throw new ConfigError(`invalid retention policies in the config file:\n${(err as Error).message}`, { cause: err });
  }
}
