export { SourceFormatError, type SourceFormatErrorOptions } from './source-format-error.js';
export { stripUrlSecrets, redactSecrets } from './redact.js';
