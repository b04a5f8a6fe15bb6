/**
 * Safe, unique zip entry names for files whose original names can be anything:
 * `../../etc/passwd`, `/abs/path`, `C:\x`, `CON.txt`, empty, 300 characters long,
 * or the same as another file's. The original name is kept in files.xml; the entry
 * name only has to be safe to extract on any OS and unique within the archive.
 */

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const MAX_STEM = 80;
const MAX_EXT = 16;

/** A name made only of `[A-Za-z0-9._-]`, no leading dot, no reserved device name, bounded length. */
export function safeFileName(original: string): string {
  // Keep only the last path segment, whichever separator the platform used.
  const base = original.split(/[\\/]/).pop() ?? '';
  const ascii = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._]+/, '')
    .replace(/[._]+$/, '');
  let name = ascii.length > 0 ? ascii : 'file';
  const dot = name.lastIndexOf('.');
  let stem = dot > 0 ? name.slice(0, dot) : name;
  let ext = dot > 0 ? name.slice(dot + 1) : '';
  if (ext.length > MAX_EXT) {
    stem = name;
    ext = '';
  }
  if (stem.length > MAX_STEM) stem = stem.slice(0, MAX_STEM);
  name = ext ? `${stem}.${ext}` : stem;
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  return name;
}

/** `files/000042-report.pdf`: a sequence number makes duplicates unique and keeps source order. */
export function fileEntryName(sequence: number, original: string): string {
  return `files/${String(sequence).padStart(6, '0')}-${safeFileName(original)}`;
}

/** Directory name of a conversation: its sequence number and a readable slug of its name. */
export function conversationDirName(sequence: number, name: string | undefined): string {
  const slug = name ? safeFileName(name).slice(0, 40) : '';
  const n = String(sequence).padStart(4, '0');
  return slug && slug !== 'file' ? `${n}-${slug}` : n;
}

/** Numbered part names: `messages-0001.xml`. */
export function partName(stem: string, part: number): string {
  return `${stem}-${String(part).padStart(4, '0')}.xml`;
}
