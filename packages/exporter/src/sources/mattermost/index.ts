export { createMattermostSource, type MattermostSourceOptions } from './mattermost-source.js';
export { SourceFormatError } from '../shared/source-format-error.js';
