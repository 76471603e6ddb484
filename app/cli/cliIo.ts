/**
 * What a `quiver` subcommand may touch of its process: one line at a time on stdout and stderr, and
 * the environment. `main` passes the real process; tests pass one that records the lines.
 */
import { escapeControl } from '../logLine.ts';

export interface CliIo {
  /** Writes one line (the newline is added). */
  stdout(line: string): void;
  /** Writes one line (the newline is added). */
  stderr(line: string): void;
  env: NodeJS.ProcessEnv;
}

/**
 * The process's own stdout and stderr as a CliIo. Lines quote servers (stream errors, message
 * bodies, certificate names), so what reaches the terminal is escaped (`app/logLine.ts`): a stderr
 * line stays one line, and no line carries a carriage return or a terminal escape sequence.
 * Reports on stdout keep their own line feeds.
 */
export function terminalIo(
  write: { stdout(text: string): void; stderr(text: string): void },
  env: NodeJS.ProcessEnv,
): CliIo {
  return {
    stdout: (line) => write.stdout(`${escapeControl(line, { keepLineFeeds: true })}\n`),
    stderr: (line) => write.stderr(`${escapeControl(line)}\n`),
    env,
  };
}
