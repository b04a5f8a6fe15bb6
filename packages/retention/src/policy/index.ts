export * from './duration.js';
export * from './classes.js';
export * from './config.js';
export * from './precedence.js';
