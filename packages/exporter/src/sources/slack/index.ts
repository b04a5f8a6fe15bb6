export { createSlackSource, type SlackSourceOptions } from './slack-source.js';
export { SourceFormatError } from '../shared/source-format-error.js';
export { stripUrlSecrets } from '../shared/redact.js';
