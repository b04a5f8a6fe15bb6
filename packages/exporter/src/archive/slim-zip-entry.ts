import yauzl from 'yauzl';

/**
 * What is kept of a zip entry: its name and the few numbers yauzl's `openReadStream`
 * needs. yauzl's own `Entry` also keeps the raw name, extra-field and comment bytes,
 * about 1 KB an entry. A Slack export can hold a hundred thousand day files and an
 * archive as many files, and the sources and the verifier keep every entry: at 200,000
 * entries yauzl's objects alone were more than the CLI's whole heap.
 */
export interface SlimZipEntry {
  readonly fileName: string;
  readonly offset: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly compressionMethod: number;
  readonly flags: number;
  readonly crc32: number;
}

export function slimZipEntry(entry: yauzl.Entry): SlimZipEntry {
  return {
    fileName: entry.fileName,
    offset: entry.relativeOffsetOfLocalHeader,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    compressionMethod: entry.compressionMethod,
    flags: entry.generalPurposeBitFlag,
    crc32: entry.crc32,
  };
}

/** A yauzl `Entry` rebuilt for `openReadStream`, which reads only these fields and its methods. */
export function yauzlEntry(slim: SlimZipEntry): yauzl.Entry {
  return Object.assign(new yauzl.Entry(), {
    fileName: slim.fileName,
    relativeOffsetOfLocalHeader: slim.offset,
    compressedSize: slim.compressedSize,
    uncompressedSize: slim.uncompressedSize,
    compressionMethod: slim.compressionMethod,
    generalPurposeBitFlag: slim.flags,
    crc32: slim.crc32,
  });
}
