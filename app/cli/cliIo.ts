/**
 * What a `quiver` subcommand may touch of its process: one line at a time on stdout and stderr, and
 * the environment. `main` passes the real process; tests pass one that records the lines.
 */
export interface CliIo {
  /** Writes one line (the newline is added). */
  stdout(line: string): void;
  /** Writes one line (the newline is added). */
  stderr(line: string): void;
  env: NodeJS.ProcessEnv;
}
