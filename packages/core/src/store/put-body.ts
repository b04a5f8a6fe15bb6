import { Readable, Transform, addAbortSignal, pipeline } from 'node:stream';

/** A put body as a stream that counts bytes, reports progress, and dies on abort. */
export interface MeteredBody {
  readonly stream: Readable;
  /** Bytes consumed from the caller's body so far. */
  bytes(): number;
  /** The error the caller's body emitted, if it did; lets adapters say "your stream failed", not "the disk did". */
  sourceError(): unknown;
  /** Stop reading and release the caller's stream; safe to call after success. */
  dispose(): void;
}

export function toBuffer(body: string | Uint8Array): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * Wraps any put body in a counting pass-through. Aborting the signal destroys the
 * pass-through with an `AbortError`, which `pipeline` carries back to the caller's stream;
 * readers of `stream` see the error rather than a clean end, so a partial body can never
 * be mistaken for a complete one.
 */
export function meterBody(
  body: Readable | Uint8Array | string,
  options: { signal?: AbortSignal | undefined; onProgress?: ((bytes: number) => void) | undefined },
): MeteredBody {
  let count = 0;
  let failure: unknown;
  const source =
    body instanceof Readable ? body : Readable.from([toBuffer(body)], { objectMode: false });
  const counter = new Transform({
    // Object mode on the way in so that a caller's odd chunk (an object from an object-mode
    // stream) becomes an error of this put instead of an exception thrown inside pipe().
    writableObjectMode: true,
    transform(input: unknown, encoding, callback) {
      let chunk: Buffer;
      if (typeof input === 'string') chunk = Buffer.from(input, Buffer.isEncoding(encoding) ? encoding : 'utf8');
      else if (input instanceof Uint8Array) chunk = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      else {
        callback(new TypeError(`a put body must yield strings or bytes, got ${typeof input === 'object' ? 'an object' : typeof input}`));
        return;
      }
      count += chunk.length;
      try {
        options.onProgress?.(count);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, chunk);
    },
  });
  source.once('error', (err) => {
    failure ??= err;
  });
  pipeline(source, counter, () => {
    // Errors reach readers of `counter`; this callback only keeps pipeline from throwing.
  });
  if (options.signal !== undefined) addAbortSignal(options.signal, counter);
  return {
    stream: counter,
    bytes: () => count,
    sourceError: () => failure,
    dispose: () => {
      if (!counter.readableEnded && !counter.destroyed) counter.destroy();
    },
  };
}
