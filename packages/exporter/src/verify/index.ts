export * from './verify-archive.js';
export { openZip, type ZipReader } from './zip-reader.js';
