export * from './errors.js';
export * from './clock.js';
export * from './log/logger.js';
export * from './store/index.js';
export * from './crypto/index.js';
export * from './audit/index.js';
