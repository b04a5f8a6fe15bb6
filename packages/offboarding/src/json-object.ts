import { IntegrityError, isHandoverError, readObject, type Store } from '@handover/core';
import type { z } from 'zod';

/** Small JSON documents in a Store: read (validated), write. */

/** The document at `key`, or undefined when there is none. A damaged document is an IntegrityError naming the key. */
export async function readJsonObject<S extends z.ZodType>(store: Store, key: string, schema: S, what: string): Promise<z.infer<S> | undefined> {
  const bytes = await readObject(store, key);
  if (bytes === undefined) return undefined;
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new IntegrityError(`${what} '${key}' in ${store.url} is not valid JSON`, { cause: err });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : `: ${issue.path.join('.') || '(root)'}: ${issue.message}`;
    throw new IntegrityError(`${what} '${key}' in ${store.url} is not in the expected format${where}`, { cause: parsed.error });
  }
  return parsed.data;
}

export interface WriteJsonOptions {
  /** Create only: throws E_EXISTS when the object is there. */
  create?: boolean;
  tags?: Record<string, string>;
  metadata?: Record<string, string>;
}

export async function writeJsonObject(store: Store, key: string, value: unknown, options: WriteJsonOptions = {}): Promise<void> {
  await store.put(key, `${JSON.stringify(value, null, 2)}\n`, {
    contentType: 'application/json',
    ...(options.create ? { ifNoneMatch: true } : {}),
    ...(options.tags === undefined ? {} : { tags: options.tags }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  });
}

export const isExists = (err: unknown): boolean => isHandoverError(err) && err.code === 'E_EXISTS';
