/**
 * How the `quiver` command reports a failure: one line on stderr for the person, and with --json
 * one `{"type":"error","code":"…","message":"…"}` line on stdout too, so a script that reads only
 * stdout learns what failed and why. `code` is the error's stable code (`QuiverError.code`).
 */
import { oneLine } from './oneLine.ts';
import type { CliIo } from './cliIo.ts';

export interface Failure {
  code: string;
  message: string;
}

/** The code and message of anything thrown: its string `code`, else `internal`. */
export function failureOf(error: unknown): Failure {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' && code !== '' ? code : 'internal', message };
}

/** Writes the failure: `quiver: <message>` on stderr, and the JSON error line on stdout with `json`. */
export function reportFailure(io: CliIo, failure: Failure, json: boolean): void {
  const message = oneLine(failure.message);
  if (json) io.stdout(JSON.stringify({ type: 'error', code: failure.code, message }));
  io.stderr(`quiver: ${message}`);
}
