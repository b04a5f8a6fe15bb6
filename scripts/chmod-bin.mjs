// `pnpm handover` runs the built CLI by its shebang line, which carries the Node flags and
// environment it needs (see packages/cli/src/bin.ts); tsc writes it without the exec bit.
import { chmodSync } from 'node:fs';

chmodSync(new URL('../packages/cli/dist/bin.js', import.meta.url), 0o755);
