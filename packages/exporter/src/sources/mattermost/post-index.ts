import { closeSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Messages per block; a block is 64 × 24 bytes = 1.5 KiB. */
const BLOCK_RECORDS = 64;
const BLOCK_BYTES = BLOCK_RECORDS * 24;
const WRITE_BUFFER_BYTES = 1024 * 1024;

/** Where one message is: its line's byte range, its create_at, and which reply of the line it is (-1: the post). */
export interface MessageLocations {
  length: number;
  createdAt: Float64Array;
  offset: Float64Array;
  bytes: Uint32Array;
  reply: Int32Array;
}

class Pending {
  count = 0;
  /** Block numbers in the index file, in order. */
  blocks: number[] = [];
  readonly buffer = new ArrayBuffer(BLOCK_BYTES);
  readonly createdAt = new Float64Array(this.buffer, 0, BLOCK_RECORDS);
  readonly offset = new Float64Array(this.buffer, BLOCK_RECORDS * 8, BLOCK_RECORDS);
  readonly bytes = new Uint32Array(this.buffer, BLOCK_RECORDS * 16, BLOCK_RECORDS);
  readonly reply = new Int32Array(this.buffer, BLOCK_RECORDS * 20, BLOCK_RECORDS);
}

/**
 * The locations of a member's messages, per conversation, kept on disk: each
 * conversation fills a 1.5 KiB block (64 messages, 24 bytes each) in memory and full
 * blocks go to a temporary index file. Memory is ~2 KiB per conversation while
 * indexing, and 28 bytes per message of the one conversation being read — not of the
 * whole history: a member in every channel of a 1 GB export stays bounded.
 */
export class MessageIndex {
  private readonly conversations = new Map<string, Pending>();
  private readonly writeBuffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private writeUsed = 0;
  private blocksWritten = 0;
  private finished = false;

  private constructor(private readonly handle: FileHandle) {}

  static async create(path: string): Promise<MessageIndex> {
    return new MessageIndex(await open(path, 'w+', 0o600));
  }

  has(conversationId: string): boolean {
    return this.conversations.has(conversationId);
  }

  async add(conversationId: string, createdAt: number, offset: number, bytes: number, reply: number): Promise<void> {
    let p = this.conversations.get(conversationId);
    if (p === undefined) this.conversations.set(conversationId, (p = new Pending()));
    const slot = p.count % BLOCK_RECORDS;
    p.createdAt[slot] = createdAt;
    p.offset[slot] = offset;
    p.bytes[slot] = bytes;
    p.reply[slot] = reply;
    p.count += 1;
    if (slot === BLOCK_RECORDS - 1) await this.writeBlock(p);
  }

  private async writeBlock(p: Pending): Promise<void> {
    if (this.writeUsed + BLOCK_BYTES > this.writeBuffer.length) await this.flush();
    this.writeBuffer.set(new Uint8Array(p.buffer), this.writeUsed);
    this.writeUsed += BLOCK_BYTES;
    p.blocks.push(this.blocksWritten);
    this.blocksWritten += 1;
  }

  private async flush(): Promise<void> {
    let done = 0;
    while (done < this.writeUsed) {
      const { bytesWritten } = await this.handle.write(this.writeBuffer, done, this.writeUsed - done);
      done += bytesWritten;
    }
    this.writeUsed = 0;
  }

  /** Writes the partly filled blocks; call once, after the last `add`. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    for (const p of this.conversations.values()) if (p.count % BLOCK_RECORDS !== 0) await this.writeBlock(p);
    await this.flush();
  }

  /** The locations of one conversation's messages, in file order. */
  async read(conversationId: string): Promise<MessageLocations> {
    const p = this.conversations.get(conversationId);
    const n = p?.count ?? 0;
    const out: MessageLocations = {
      length: n,
      createdAt: new Float64Array(n),
      offset: new Float64Array(n),
      bytes: new Uint32Array(n),
      reply: new Int32Array(n),
    };
    if (p === undefined) return out;
    const aligned = new ArrayBuffer(BLOCK_BYTES);
    const block = new Uint8Array(aligned);
    const createdAt = new Float64Array(aligned, 0, BLOCK_RECORDS);
    const offset = new Float64Array(aligned, BLOCK_RECORDS * 8, BLOCK_RECORDS);
    const bytes = new Uint32Array(aligned, BLOCK_RECORDS * 16, BLOCK_RECORDS);
    const reply = new Int32Array(aligned, BLOCK_RECORDS * 20, BLOCK_RECORDS);
    let filled = 0;
    for (const b of p.blocks) {
      await this.handle.read(block, 0, BLOCK_BYTES, b * BLOCK_BYTES);
      const take = Math.min(BLOCK_RECORDS, n - filled);
      out.createdAt.set(createdAt.subarray(0, take), filled);
      out.offset.set(offset.subarray(0, take), filled);
      out.bytes.set(bytes.subarray(0, take), filled);
      out.reply.set(reply.subarray(0, take), filled);
      filled += take;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Message indexes in the order they were sent; ties keep file order, so a post comes before its same-millisecond replies. */
export function sentOrder(locations: MessageLocations): Uint32Array {
  const order = new Uint32Array(locations.length);
  for (let i = 0; i < order.length; i += 1) order[i] = i;
  const at = locations.createdAt;
  return order.sort((a, b) => (at[a] ?? 0) - (at[b] ?? 0) || a - b);
}

const READ_AHEAD_BYTES = 1024 * 1024;
/** Lines further apart than this are read separately rather than with the bytes between them. */
const READ_AHEAD_GAP = 16 * 1024;

/**
 * Reads lines back by byte range with positional reads into one reused buffer. Each
 * read also takes the next lines of the reading order when they follow closely in the
 * file, so a conversation whose lines are together costs a few large reads, and one
 * scattered across the file costs one small read per line, never whole windows of
 * other conversations' lines. Reads are synchronous: a line is a few hundred bytes,
 * usually in the page cache, and a thread-pool round trip per line costs more than
 * the read (5 million lines: minutes instead of seconds).
 */
export class LineReader {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private start = 0;
  private length = 0;

  private constructor(private readonly fd: number) {}

  static async open(path: string): Promise<LineReader> {
    return new LineReader(openSync(path, 'r'));
  }

  /** The line at `locations[order[k]]`, reading ahead along `order`. */
  async line(locations: MessageLocations, order: Uint32Array, k: number): Promise<string> {
    const i = order[k] ?? 0;
    const offset = locations.offset[i] ?? 0;
    const bytes = locations.bytes[i] ?? 0;
    if (offset < this.start || offset + bytes > this.start + this.length) {
      let end = offset + bytes;
      for (let j = k + 1; j < order.length && j < k + 4096; j += 1) {
        const next = order[j] ?? 0;
        const o = locations.offset[next] ?? 0;
        const e = o + (locations.bytes[next] ?? 0);
        if (o < offset || o - end > READ_AHEAD_GAP || e - offset > READ_AHEAD_BYTES) break;
        end = Math.max(end, e);
      }
      const size = end - offset;
      if (size > this.buffer.length) this.buffer = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const bytesRead = readSync(this.fd, this.buffer, got, size - got, offset + got);
        if (bytesRead === 0) throw new Error('the file is shorter than its index says (did it change while being read?)');
        got += bytesRead;
      }
      this.start = offset;
      this.length = size;
    }
    const from = offset - this.start;
    let to = from + bytes;
    if (to > from && this.buffer[to - 1] === 0x0d) to -= 1;
    let text = this.buffer.toString('utf8', from, to);
    if (offset === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text;
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}
