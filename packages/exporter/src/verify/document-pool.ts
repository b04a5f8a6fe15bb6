import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DocumentChecker, type DocumentJob, type DocumentResult } from './document-check.js';

const WORKER_URL = new URL('./document-worker.js', import.meta.url);

function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/**
 * `bytes` when it owns its memory, else a copy that does. A view into Node's Buffer pool
 * cannot be transferred: Node 20 quietly copies it, but Node 22 throws "Cannot transfer
 * object of unsupported type", which made `handover verify` fail there. (Buffer#slice is
 * a view, not a copy.)
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : copyOf(bytes);
}

/**
 * Checks documents on worker threads, one per core, while the main thread keeps reading
 * and hashing the zip. At most `maxInFlight` documents wait, which bounds memory.
 * Where the compiled worker is absent (tests running the TypeScript sources), checks run inline.
 */
export class DocumentPool {
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #waiting: ((w: Worker) => void)[] = [];
  readonly #pending = new Map<number, (r: DocumentResult) => void>();
  readonly #inline: Promise<DocumentChecker> | undefined;
  readonly #results: Promise<DocumentResult>[] = [];
  #next = 0;

  constructor(xsd: string, threads = Math.max(1, Math.min(4, availableParallelism()))) {
    if (!existsSync(fileURLToPath(WORKER_URL))) {
      this.#inline = DocumentChecker.create(xsd);
      return;
    }
    for (let i = 0; i < threads; i++) {
      const w = new Worker(WORKER_URL, { workerData: { xsd } });
      w.on('message', (m: { id: number; result: DocumentResult }) => {
        this.#pending.get(m.id)?.(m.result);
        this.#pending.delete(m.id);
        this.#release(w);
      });
      w.on('error', (err) => {
        for (const [id, resolve] of this.#pending) resolve({ name: `#${id}`, schemaErrors: [`validation thread failed: ${err.message}`], records: 0 });
        this.#pending.clear();
      });
      this.#workers.push(w);
      this.#idle.push(w);
    }
  }

  /** Queues a document; resolves once a thread has taken it (not when it is checked). */
  async submit(job: DocumentJob): Promise<void> {
    if (this.#inline) {
      const checker = await this.#inline;
      this.#results.push(Promise.resolve(checker.check(job)));
      return;
    }
    const worker = await this.#acquire();
    const id = this.#next++;
    this.#results.push(new Promise<DocumentResult>((resolve) => this.#pending.set(id, resolve)));
    // Transferred, not copied, when the bytes own their memory: the main thread no longer needs them.
    const bytes = ownedBytes(job.bytes);
    worker.postMessage({ id, name: job.name, kind: job.kind, bytes }, [bytes.buffer as ArrayBuffer]);
  }

  /** Every result, in submission order, once all are checked. */
  async results(): Promise<DocumentResult[]> {
    return Promise.all(this.#results);
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #acquire(): Promise<Worker> {
    const w = this.#idle.pop();
    if (w) return Promise.resolve(w);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(w: Worker): void {
    const next = this.#waiting.shift();
    if (next) next(w);
    else this.#idle.push(w);
  }
}
