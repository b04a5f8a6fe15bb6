import type { SkippedItem } from '../../source/source.js';
import { SourceFormatError } from './source-format-error.js';

/** More than this many skipped items are summarized in one last item, so a hopeless file cannot exhaust memory. */
const MAX_RECORDED = 1000;

/**
 * Decides what an invalid item does: without `skipInvalid` it is thrown; with it, it
 * is recorded once (sources may meet the same file in several passes) and reading goes on.
 */
export class InvalidItems {
  private readonly items: SkippedItem[] = [];
  private readonly seen = new Set<string>();
  private unlisted = 0;

  constructor(private readonly skipInvalid: boolean) {}

  /** Throws `error` unless invalid items are being skipped; then records it. */
  report(error: SourceFormatError): void {
    if (!this.skipInvalid) throw error;
    const key = `${error.file}\u0000${error.line ?? ''}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.items.length >= MAX_RECORDED) {
      this.unlisted += 1;
      return;
    }
    this.items.push(error.line === undefined ? { file: error.file, reason: error.reason } : { file: error.file, line: error.line, reason: error.reason });
  }

  list(): readonly SkippedItem[] {
    if (this.unlisted === 0) return [...this.items];
    return [...this.items, { file: '*', reason: `${this.unlisted} more invalid items were skipped and not listed` }];
  }
}
