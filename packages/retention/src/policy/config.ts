import { ConfigError } from '@handover/core';
import { z } from 'zod';
import { CLASS_NAME_PATTERN, DEFAULT_CLASSES, defaultPolicies, type RetentionClass } from './classes.js';
import { isDuration } from './duration.js';

/*
 * The `retention` section of the Handover config (YAML or JSON; parse the file first, then
 * hand the section here):
 *
 *   retention:
 *     classes:
 *       export-download:            # override a built-in class: any subset of fields
 *         duration: P45D
 *       chat-evidence:              # a new class: duration and legalBasis are required
 *         duration: P2Y
 *         action: delete            # default delete
 *         legalBasis: "GDPR Art. 17(3)(e) defence of legal claims"
 *         description: "Evidence kept for an open dispute"
 */

const DURATION_HINT = 'expected an ISO-8601 duration such as P30D, P7Y, P1Y2M10DT2H30M or P2W';

const classSchema = z.strictObject({
  /** ISO-8601 duration counted from each object's creation. */
  duration: z
    .string()
    .refine(isDuration, { error: (issue) => `invalid duration '${String(issue.input)}': ${DURATION_HINT}` })
    .optional(),
  /** `delete` or `crypto-shred`. */
  action: z.enum(['delete', 'crypto-shred']).optional(),
  /** Legal ground quoted in certificates; required for new classes. */
  legalBasis: z.string().trim().min(1, { error: 'must not be empty' }).optional(),
  description: z.string().optional(),
});

/** Zod schema of the `retention` config section. */
export const retentionConfigSchema = z
  .strictObject({
    classes: z
      .record(
        z.string().regex(CLASS_NAME_PATTERN, { error: 'class names are kebab-case: lowercase letters, digits and single dashes' }),
        classSchema,
      )
      .default({}),
  })
  .superRefine((cfg, ctx) => {
    const builtIn = new Set(DEFAULT_CLASSES.map((c) => c.name));
    for (const [name, c] of Object.entries(cfg.classes)) {
      if (builtIn.has(name)) continue;
      if (c.duration === undefined) {
        ctx.addIssue({ code: 'custom', path: ['classes', name, 'duration'], message: `required for the new class '${name}'` });
      }
      if (c.legalBasis === undefined) {
        ctx.addIssue({ code: 'custom', path: ['classes', name, 'legalBasis'], message: `required for the new class '${name}'` });
      }
    }
  });

export type RetentionConfig = z.output<typeof retentionConfigSchema>;
export type RetentionConfigInput = z.input<typeof retentionConfigSchema>;

/**
 * One line per issue, `path: message`, paths dotted from `root`
 * (`retention.classes.export-download.duration: invalid duration 'P3X': …`).
 */
export function formatZodError(error: z.ZodError, options: { root?: string } = {}): string {
  return error.issues
    .map((issue) => {
      let path = options.root ?? '';
      for (const seg of issue.path) {
        if (typeof seg === 'number') path += `[${seg}]`;
        else path += path === '' ? String(seg) : `.${String(seg)}`;
      }
      // A bad record key says only "Invalid key in record"; the reason is in its sub-issues.
      const message =
        issue.code === 'invalid_key' && issue.issues.length > 0 ? issue.issues.map((i) => i.message).join('; ') : issue.message;
      return `${path === '' ? '(root)' : path}: ${message}`;
    })
    .join('\n');
}

/** Validate a parsed `retention` section; throws ConfigError (E_CONFIG) with `path: message` lines. */
export function parseRetentionConfig(input: unknown, options: { root?: string } = {}): RetentionConfig {
  const result = retentionConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(`invalid retention config:\n${formatZodError(result.error, { root: options.root ?? 'retention' })}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** The built-in classes with the config's overrides and additions applied. */
export function resolvePolicies(config?: RetentionConfig | RetentionConfigInput): Map<string, RetentionClass> {
  const cfg = parseRetentionConfig(config ?? {});
  const policies = defaultPolicies();
  for (const [name, c] of Object.entries(cfg.classes)) {
    const base = policies.get(name);
    const merged: RetentionClass = {
      name,
      duration: c.duration ?? base?.duration ?? '',
      action: c.action ?? base?.action ?? 'delete',
      legalBasis: c.legalBasis ?? base?.legalBasis ?? '',
      description: c.description ?? base?.description ?? '',
    };
    policies.set(name, Object.freeze(merged));
  }
  return policies;
}
