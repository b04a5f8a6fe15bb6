export * from './source/domain.js';
export * from './source/source.js';
export * from './export/view.js';
export * from './sources/demo/index.js';
export * from './sources/slack/index.js';
export * from './sources/mattermost/index.js';
export * from './html/index.js';
