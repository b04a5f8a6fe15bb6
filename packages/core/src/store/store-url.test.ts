import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { createMemoryStore } from './memory-store.js';
import { resolveForcePathStyle } from './s3-store.js';
import { assertValidKey } from './store.js';
import { compareKeys, resolveRange } from './store-rules.js';
import { openStore, parseStoreUrl } from './store-url.js';

describe('parseStoreUrl', () => {
  it('reads S3 locations, normalising the prefix', () => {
    expect(parseStoreUrl('s3://my-bucket')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseStoreUrl('s3://my-bucket/')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseStoreUrl('s3://my-bucket/handover/prod')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: 'handover/prod/' });
    expect(parseStoreUrl('S3://my-bucket/a/')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: 'a/' });
  });

  it('reads paths and file URLs', () => {
    expect(parseStoreUrl('/srv/handover')).toEqual({ kind: 'fs', root: path.resolve('/srv/handover') });
    expect(parseStoreUrl('handover-data')).toEqual({ kind: 'fs', root: path.resolve('handover-data') });
    expect(parseStoreUrl('file:///srv/h%20o')).toEqual({ kind: 'fs', root: path.resolve('/srv/h o') });
    expect(parseStoreUrl('~/h')).toEqual({ kind: 'fs', root: path.join(os.homedir(), 'h') });
  });

  it('refuses what it cannot open, saying what to use instead', () => {
    for (const bad of ['', 's3://', 's3://UPPER', 's3://b', 's3://ok-bucket/../x', 's3://ok-bucket/a?x=1', 'gs://bucket/x', 'https://example.com/x']) {
      expect(() => parseStoreUrl(bad), bad).toThrow(expect.objectContaining({ code: 'E_STORE_URL', exitCode: 2 }));
    }
    expect(() => parseStoreUrl('gs://bucket/x')).toThrow(/use a directory path or s3:\/\/bucket\/prefix/);
  });
});

describe('openStore', () => {
  it('opens the adapter the location names', () => {
    const fs = openStore('/tmp/somewhere');
    expect(fs).toMatchObject({ kind: 'fs', root: path.resolve('/tmp/somewhere') });
    const s3 = openStore('s3://my-bucket/p', { s3: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9' } });
    expect(s3).toMatchObject({ kind: 's3', bucket: 'my-bucket', prefix: 'p/', url: 's3://my-bucket/p/' });
  });

  it('checks S3 tuning options', () => {
    expect(() => openStore('s3://my-bucket', { s3: { partSize: 1024 } })).toThrow(/partSize=1024 is out of range/);
  });
});

describe('resolveForcePathStyle', () => {
  it('follows the option, then HANDOVER_S3_FORCE_PATH_STYLE, then the presence of a custom endpoint', () => {
    expect(resolveForcePathStyle({ forcePathStyle: false, endpoint: 'http://minio:9000' }, {})).toBe(false);
    expect(resolveForcePathStyle({}, { HANDOVER_S3_FORCE_PATH_STYLE: '1' })).toBe(true);
    expect(resolveForcePathStyle({}, { HANDOVER_S3_FORCE_PATH_STYLE: '0', AWS_ENDPOINT_URL_S3: 'http://m' })).toBe(false);
    expect(resolveForcePathStyle({ endpoint: 'http://minio:9000' }, {})).toBe(true);
    expect(resolveForcePathStyle({}, { AWS_ENDPOINT_URL_S3: 'http://minio:9000' })).toBe(true);
    expect(resolveForcePathStyle({}, { AWS_ENDPOINT_URL: 'http://minio:9000' })).toBe(true);
    expect(resolveForcePathStyle({}, {})).toBeUndefined();
    expect(() => resolveForcePathStyle({}, { HANDOVER_S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(/set it to 1 or 0/);
  });
});

describe('store rules', () => {
  it('orders keys by UTF-8 bytes, as S3 lists them', () => {
    const keys = ['a/b', 'a-c', '\u{1F600}', '\uFF5E', 'B', 'a'];
    expect([...keys].sort(compareKeys)).toEqual(['B', 'a', 'a-c', 'a/b', '\uFF5E', '\u{1F600}']);
  });

  it('clamps range ends and refuses starts past the end', () => {
    expect(resolveRange('k', 10, { start: 2, end: 99 })).toEqual({ start: 2, end: 9 });
    expect(resolveRange('k', 10, undefined)).toBeUndefined();
    expect(() => resolveRange('k', 0, { start: 0 })).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
    expect(() => resolveRange('k', 10, { start: 1.5 })).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
  });

  it('measures key length in UTF-8 bytes and throws a coded error', () => {
    expect(() => assertValidKey('é'.repeat(513))).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY', name: 'InvalidKeyError' }));
    expect(() => assertValidKey('é'.repeat(512))).not.toThrow();
    expect(() => assertValidKey('a\0b')).toThrow(/NUL/);
  });
});

describe('memory store', () => {
  it('stamps lastModified from the injected clock', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const store = createMemoryStore({ clock });
    await store.put('a', 'x');
    clock.advance(86_400_000);
    await store.put('b', 'y');
    const entries: { key: string; lastModified: Date }[] = [];
    for await (const e of store.list('')) entries.push(e);
    expect(entries.map((e) => [e.key, e.lastModified.toISOString()])).toEqual([
      ['a', '2026-01-01T00:00:00.000Z'],
      ['b', '2026-01-02T00:00:00.000Z'],
    ]);
    expect(store.size).toBe(2);
  });

  it('keeps stored bytes safe from the caller mutating its buffer', async () => {
    const store = createMemoryStore();
    const buf = Buffer.from('abc');
    await store.put('k', buf);
    buf.fill(0);
    const chunks: Buffer[] = [];
    for await (const c of await store.get('k')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abc');
  });
});
