import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The one namespace of every document in a v1 archive. */
export const ARCHIVE_NAMESPACE = 'urn:handover:archive:v1';
export const FORMAT_VERSION = '1.0';
/** Where the XSD sits inside every archive. */
export const SCHEMA_ENTRY = 'schema/handover-archive-v1.xsd';

// The XSD is kept as a plain file in the package (packages/exporter/schema), not as a
// string in code, so that the repository's copy is the one every archive carries.
const SCHEMA_URL = new URL('../../schema/handover-archive-v1.xsd', import.meta.url);

let schemaText: string | undefined;

/** The v1 XSD, as shipped with this version of Handover. */
export function archiveSchema(): string {
  schemaText ??= readFileSync(SCHEMA_URL, 'utf8');
  return schemaText;
}

export function archiveSchemaPath(): string {
  return fileURLToPath(SCHEMA_URL);
}
