import { DEFAULT_CLASSES, defaultPolicies } from './classes.js';
import { formatZodError, parseRetentionConfig, resolvePolicies, retentionConfigSchema } from './config.js';

describe('retention classes', () => {
  it('ships the domain defaults', () => {
    const p = defaultPolicies();
    expect([...p.values()].map((c) => [c.name, c.duration, c.action])).toEqual([
      ['export-download', 'P30D', 'delete'],
      ['post-deletion-backup', 'P180D', 'crypto-shred'],
      ['gdpr-appeal', 'P60D', 'delete'],
      ['financial-audit-log', 'P7Y', 'delete'],
      ['oauth-token', 'P7D', 'delete'],
    ]);
    for (const c of DEFAULT_CLASSES) {
      expect(c.legalBasis.length).toBeGreaterThan(10);
      expect(c.description.length).toBeGreaterThan(10);
    }
  });
});

describe('retention config', () => {
  it('overrides durations and actions and adds classes', () => {
    const p = resolvePolicies({
      classes: {
        'export-download': { duration: 'P45D' },
        'gdpr-appeal': { action: 'crypto-shred' },
        'chat-evidence': { duration: 'P2Y', legalBasis: 'GDPR Art. 17(3)(e)', description: 'open dispute' },
      },
    });
    expect(p.get('export-download')).toMatchObject({ duration: 'P45D', action: 'delete' });
    expect(p.get('export-download')?.legalBasis).toBe(DEFAULT_CLASSES[0]?.legalBasis);
    expect(p.get('gdpr-appeal')).toMatchObject({ duration: 'P60D', action: 'crypto-shred' });
    expect(p.get('chat-evidence')).toEqual({
      name: 'chat-evidence',
      duration: 'P2Y',
      action: 'delete',
      legalBasis: 'GDPR Art. 17(3)(e)',
      description: 'open dispute',
    });
    expect(p.size).toBe(6);
  });

  it('an empty or missing section means the defaults', () => {
    expect([...resolvePolicies().keys()]).toEqual(DEFAULT_CLASSES.map((c) => c.name));
    expect(parseRetentionConfig(undefined)).toEqual({ classes: {} });
  });

  it('reports every problem as `path: message`', () => {
    let message = '';
    try {
      parseRetentionConfig({
        classes: {
          'export-download': { duration: 'P3X', action: 'burn' },
          Bad_Name: { duration: 'P1D', legalBasis: 'x' },
          'new-class': { description: 'no duration' },
        },
        extra: true,
      });
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_CONFIG', exitCode: 2 });
      message = (err as Error).message;
    }
    const lines = message.split('\n').slice(1);
    expect(lines).toContain(
      "retention.classes.export-download.duration: invalid duration 'P3X': expected an ISO-8601 duration such as P30D, P7Y, P1Y2M10DT2H30M or P2W",
    );
    expect(lines.some((l) => l.startsWith('retention.classes.export-download.action: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('retention.classes.Bad_Name: class names are kebab-case'))).toBe(true);
    expect(lines.some((l) => l.startsWith('retention: ') && l.includes('extra'))).toBe(true);
    // Refinements run only once the shape is right, so fix the shape to see them.
    const second = retentionConfigSchema.safeParse({ classes: { 'new-class': { description: 'no duration' } } });
    expect(second.success).toBe(false);
    if (!second.success) {
      expect(formatZodError(second.error, { root: 'retention' }).split('\n')).toEqual([
        "retention.classes.new-class.duration: required for the new class 'new-class'",
        "retention.classes.new-class.legalBasis: required for the new class 'new-class'",
      ]);
    }
  });

  it('formats array indices and the root', () => {
    const r = retentionConfigSchema.safeParse([]);
    expect(r.success).toBe(false);
    if (!r.success) expect(formatZodError(r.error)).toMatch(/^\(root\): /);
  });
});
