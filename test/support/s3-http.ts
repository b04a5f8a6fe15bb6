import { createHash, createHmac } from 'node:crypto';

/**
 * A few S3 requests made by hand, SigV4-signed with node:crypto: HeadObject, GetObject,
 * GetObjectTagging, GetObjectLegalHold, ListObjectsV2, ListObjectVersions and PutObject. They look at the
 * bucket from outside Handover, with no AWS SDK and none of the code under test, so a
 * test sees what any other S3 client would see. Works against moto and MinIO alike.
 */
export interface S3Http {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export function s3Http(endpoint: string, credentials: { accessKeyId?: string; secretAccessKey?: string; region?: string } = {}): S3Http {
  return {
    endpoint: endpoint.replace(/\/+$/, ''),
    accessKeyId: credentials.accessKeyId ?? 'test',
    secretAccessKey: credentials.secretAccessKey ?? 'test',
    region: credentials.region ?? 'us-east-1',
  };
}

const sha256hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 wants it. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One signed request, path style: `/<bucket>/<key>?<query>`. */
export async function s3Request(
  s3: S3Http,
  method: 'GET' | 'HEAD' | 'PUT' | 'DELETE',
  bucket: string,
  key: string | undefined,
  query: Record<string, string> = {},
  body?: Uint8Array | string,
): Promise<Response> {
  const url = new URL(s3.endpoint);
  const path = `/${bucket}${key === undefined ? '' : '/' + key.split('/').map(uriEncode).join('/')}`;
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(query[k]!)}`)
    .join('&');
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = now.slice(0, 8);
  const payload = sha256hex(body ?? '');
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': now };
  const signed = Object.keys(headers).sort();
  const canonical = [method, path, canonicalQuery, ...signed.map((h) => `${h}:${headers[h]}`), '', signed.join(';'), payload].join('\n');
  const scope = `${day}/${s3.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', now, scope, sha256hex(canonical)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${s3.secretAccessKey}`, day), s3.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
  const { host: _host, ...sent } = headers;
  return fetch(`${s3.endpoint}${path}${canonicalQuery ? '?' + canonicalQuery : ''}`, {
    method,
    headers: { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${s3.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}` },
    ...(body === undefined ? {} : { body }),
  });
}

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what} failed: HTTP ${res.status}\n${await res.text()}`);
  return res;
}

function xmlValues(xml: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    out.push(
      (m[1] ?? '')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, '&'),
    );
  }
  return out;
}

export interface HeadResult {
  status: number;
  size: number;
  /** `x-amz-meta-*` headers, without the prefix. */
  metadata: Record<string, string>;
  headers: Headers;
}

/** HeadObject; `undefined` when the object does not exist. */
export async function headObject(s3: S3Http, bucket: string, key: string): Promise<HeadResult | undefined> {
  const res = await s3Request(s3, 'HEAD', bucket, key);
  if (res.status === 404) return undefined;
  await ok(res, `HEAD ${bucket}/${key}`);
  const metadata: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k.startsWith('x-amz-meta-')) metadata[k.slice('x-amz-meta-'.length)] = v;
  });
  return { status: res.status, size: Number(res.headers.get('content-length')), metadata, headers: res.headers };
}

/** GetObject, whole, optionally one version. */
export async function getObject(s3: S3Http, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const res = await ok(await s3Request(s3, 'GET', bucket, key, versionId ? { versionId } : {}), `GET ${bucket}/${key}`);
  return Buffer.from(await res.arrayBuffer());
}

/** PutObject of a small body. */
export async function putObject(s3: S3Http, bucket: string, key: string, body: Uint8Array | string): Promise<void> {
  await ok(await s3Request(s3, 'PUT', bucket, key, {}, body), `PUT ${bucket}/${key}`);
}

/** GetObjectTagging as a plain record. */
export async function getObjectTagging(s3: S3Http, bucket: string, key: string): Promise<Record<string, string>> {
  const res = await ok(await s3Request(s3, 'GET', bucket, key, { tagging: '' }), `GET ${bucket}/${key}?tagging`);
  const xml = await res.text();
  const tags: Record<string, string> = {};
  for (const t of xml.split('<Tag>').slice(1)) tags[xmlValues(t, 'Key')[0] ?? ''] = xmlValues(t, 'Value')[0] ?? '';
  return tags;
}

/** ListObjectsV2: every key under `prefix` (one page of up to 1000 is plenty for a test). */
/** The Object Lock legal hold status of an object ('ON' / 'OFF'), or undefined when none was ever set. */
export async function getObjectLegalHold(s3: S3Http, bucket: string, key: string): Promise<string | undefined> {
  const res = await s3Request(s3, 'GET', bucket, key, { 'legal-hold': '' });
  const text = await res.text();
  // S3 answers an error for an object whose legal hold was never set.
  if (!res.ok && text.includes('NoSuchObjectLockConfiguration')) return undefined;
  if (!res.ok) throw new Error(`GetObjectLegalHold ${key}: HTTP ${res.status}\n${text}`);
  return /<Status>([^<]*)<\/Status>/.exec(text)?.[1] || undefined;
}

export async function listObjects(s3: S3Http, bucket: string, prefix = ''): Promise<string[]> {
  const res = await ok(await s3Request(s3, 'GET', bucket, undefined, { 'list-type': '2', prefix }), `list ${bucket}/${prefix}`);
  const xml = await res.text();
  return xml.split('<Contents>').slice(1).flatMap((c) => xmlValues(c, 'Key'));
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
}

/** ListObjectVersions: every version and delete marker under `prefix`. */
export async function listObjectVersions(s3: S3Http, bucket: string, prefix = ''): Promise<ObjectVersion[]> {
  const res = await ok(await s3Request(s3, 'GET', bucket, undefined, { versions: '', prefix }), `list versions ${bucket}/${prefix}`);
  const xml = await res.text();
  const out: ObjectVersion[] = [];
  for (const [tag, deleteMarker] of [['Version', false], ['DeleteMarker', true]] as const) {
    for (const part of xml.split(`<${tag}>`).slice(1)) {
      const body = part.split(`</${tag}>`)[0] ?? '';
      out.push({ key: xmlValues(body, 'Key')[0] ?? '', versionId: xmlValues(body, 'VersionId')[0] ?? '', isLatest: xmlValues(body, 'IsLatest')[0] === 'true', deleteMarker });
    }
  }
  return out;
}
