/**
 * Entries whose bytes are already compressed are stored: deflating them again costs
 * CPU and gains nothing. Decided by MIME type, then by the name's extension.
 */
const STORED_MIME = /^(image\/(png|jpe?g|gif|webp|avif|heic|heif)|video\/|audio\/(mpeg|mp4|aac|ogg|opus|webm|flac)|application\/(zip|gzip|x-gzip|x-7z-compressed|x-rar-compressed|vnd\.rar|x-bzip2|x-xz|zstd|pdf|epub\+zip|vnd\.openxmlformats-officedocument\.[a-z.]+|vnd\.oasis\.opendocument\.[a-z.]+|java-archive|x-apple-diskimage))$/i;
const STORED_EXT = /\.(png|jpe?g|gif|webp|avif|heic|heif|mp4|m4v|mov|mkv|webm|avi|mp3|m4a|aac|ogg|opus|flac|zip|gz|tgz|7z|rar|bz2|xz|zst|pdf|epub|docx|xlsx|pptx|odt|ods|odp|jar|dmg)$/i;

export function isAlreadyCompressed(mimeType: string, name: string): boolean {
  return STORED_MIME.test(mimeType) || STORED_EXT.test(name);
}
