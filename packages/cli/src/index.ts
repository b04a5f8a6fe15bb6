export { main } from './main.js';
export { buildProgram, VERSION } from './program.js';
export type { RunEnv } from './run-env.js';
