import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Store } from '@handover/core';
import { runCli, type CliResult } from './cli.js';

/*
 * Helpers for the retention tests: archive keys built by hand (the e2e package does not
 * depend on @handover/retention, and writing the scheme out here checks it independently),
 * bulk seeding straight into a store, and the CLI with JSON output.
 */

export const DAY = 86_400_000;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
export const dayStamp = (t: number): string => {
  const d = new Date(t);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
};
const compactTime = (t: number): string => {
  const d = new Date(t);
  return `${dayStamp(t)}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
};

/** `archives/<retainUntil day>/<class>/<subjectRef>/<createdAt>-<id>.zip.age`, for a class of `days` days. */
export function archiveKeyFor(o: { cls: string; days: number; subjectRef: string; createdAt: number; id?: string }): string {
  const created = Math.ceil(o.createdAt / 1000) * 1000;
  return `archives/${dayStamp(created + o.days * DAY)}/${o.cls}/${o.subjectRef}/${compactTime(created)}-${o.id ?? randomBytes(8).toString('hex')}.zip.age`;
}

export const randomRef = (): string => randomBytes(16).toString('hex');

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}

/** Puts tiny stand-in archives (not real ciphertext: retention never reads them) under the given keys. */
export async function seedObjects(store: Store, keys: readonly string[], concurrency = 32): Promise<void> {
  await pool(keys, concurrency, async (key) => {
    await store.put(key, `ciphertext of ${key}\n`, { ifNoneMatch: true, contentType: 'application/octet-stream' });
  });
}

export async function listKeys(store: Store, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.key);
  return out;
}

export async function readText(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of (await store.get(key)) as Readable) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export interface JsonRun<T = any> extends CliResult {
  json: T;
}

/** Runs the CLI with --json and parses its one JSON document (stdout must hold exactly one). */
export async function cliJson<T = any>(args: string[], env: NodeJS.ProcessEnv): Promise<JsonRun<T>> {
  const r = await runCli([...args, '--json'], { env });
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch (err) {
    throw new Error(`handover ${args.join(' ')} printed no single JSON document (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`, { cause: err });
  }
  return { ...r, json };
}

/** The rules of a bucket's lifecycle configuration, read with a plain (unsigned) request: moto doesn't check signatures. */
export async function lifecycleRulesOf(endpoint: string, bucket: string): Promise<{ status: number; xml: string }> {
  const res = await fetch(`${endpoint}/${bucket}?lifecycle`);
  return { status: res.status, xml: await res.text() };
}
