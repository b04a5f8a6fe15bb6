export * from './canonical-json.js';
export * from './audit-log.js';
