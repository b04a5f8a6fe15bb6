import type { FileRecord } from '../../source/domain.js';
import {
  binaryContent,
  type Content,
  mp4Content,
  pdfContent,
  type PngStyle,
  pngContent,
  pngDimensions,
  textContent,
  zipContent,
} from './file-content.js';
import { prngFor } from './random.js';
import type { Lang, SentencePools } from './text.js';

export type FileKind = 'png' | 'mp4' | 'pdf' | 'zip' | 'bin' | 'plain' | 'csv' | 'json';

export const MIME_TYPES: Readonly<Record<FileKind, string>> = {
  png: 'image/png',
  mp4: 'video/mp4',
  pdf: 'application/pdf',
  zip: 'application/zip',
  bin: 'application/octet-stream',
  plain: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
};

export interface FileSpec {
  id: string;
  name: string;
  kind: FileKind;
  /** Wanted size; the real one depends on the format (PNG dimensions, closing lines) and is what the record states. */
  targetSize: number;
  ownerId: string;
  createdMs: number;
  host: string;
  /** Languages of generated text content. */
  langs: readonly Lang[];
  pngStyle?: PngStyle;
  /** Overrides the kind's MIME type (e.g. a `.mov` whose bytes are not in the source). */
  mimeType?: string;
  /** False: the record says the bytes are not in the source, and has no `open`. */
  available: boolean;
}

export interface FileContext {
  seed: number;
  pools: SentencePools;
}

// Bytes of the unknown-binary kind start like an ELF file: `file` and browsers treat them as opaque.
const BIN_MAGIC = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00);

function contentFor(spec: FileSpec, ctx: FileContext): Content {
  // Keyed by file id: every open() of the same file, in any source with the same seed, yields the same bytes.
  const rng = () => prngFor(ctx.seed, 'bytes', spec.id);
  const target = Math.max(0, Math.round(spec.targetSize));
  switch (spec.kind) {
    case 'png': {
      const { width, height } = pngDimensions(target);
      return pngContent(width, height, spec.pngStyle ?? 'noise', rng);
    }
    case 'mp4':
      return mp4Content(target, rng);
    case 'pdf':
      return pdfContent(target, spec.name, rng);
    case 'zip':
      return zipContent(target, 'data/part-0001.bin', new Date(spec.createdMs), rng);
    case 'bin':
      return binaryContent(target, BIN_MAGIC, rng);
    case 'plain':
    case 'csv':
    case 'json':
      return textContent(spec.kind, target, ctx.pools, spec.langs, rng);
  }
}

export function createFileRecord(spec: FileSpec, ctx: FileContext): FileRecord {
  const record: FileRecord = {
    id: spec.id,
    name: spec.name,
    mimeType: spec.mimeType ?? MIME_TYPES[spec.kind],
    size: 0,
    ownerId: spec.ownerId,
    createdAt: new Date(spec.createdMs),
    availability: spec.available ? 'available' : 'not-in-source',
    url: `https://${spec.host}/files/${encodeURIComponent(spec.id)}`,
  };
  if (spec.available) {
    const content = contentFor(spec, ctx);
    record.size = content.size;
    record.open = async () => content.open();
  } else {
    record.size = Math.max(0, Math.round(spec.targetSize));
  }
  return record;
}
