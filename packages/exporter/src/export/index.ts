export * from './view.js';
export * from './export-member.js';
export * from './pseudonymizer.js';
