// archiver 8 is ESM-only and ships no type declarations; this covers what Handover uses.
declare module 'archiver' {
  import type { Readable, Transform } from 'node:stream';
  import type { ZlibOptions } from 'node:zlib';

  export interface ZipOptions {
    comment?: string;
    forceZip64?: boolean;
    store?: boolean;
    zlib?: ZlibOptions;
    highWaterMark?: number;
  }
  export interface EntryData {
    name: string;
    date?: Date | string;
    mode?: number;
    store?: boolean;
    /** Per-entry zlib options; honoured through patches/zip-stream@7.0.5.patch. */
    zlib?: ZlibOptions;
    /** The source is already raw deflate of `size` bytes with this CRC-32; through patches/zip-stream@7.0.5.patch. */
    deflated?: { crc: number; size: number };
  }
  export class ZipArchive extends Transform {
    constructor(options?: ZipOptions);
    append(source: Readable | Buffer | string, data: EntryData): this;
    finalize(): Promise<void>;
    abort(): this;
    pointer(): number;
    on(event: 'entry', listener: (entry: EntryData) => void): this;
    on(event: 'warning' | 'error', listener: (error: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
