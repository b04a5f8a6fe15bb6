/** What a command runs with; injected so tests can run the program in-process. */
export interface RunEnv {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  /** Aborted on SIGINT / SIGTERM: long commands stop and clean up. */
  signal: AbortSignal;
}
