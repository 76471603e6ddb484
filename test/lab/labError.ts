/**
 * The one error type the lab throws. `code` is stable so callers (withLab, tests) can branch on it;
 * `message` names what failed and carries the tail of the failing server's log.
 */
import { QuiverError } from '../../app/contract/quiverError.ts';
export type LabErrorCode =
  | 'missing-package' // a Debian package the lab needs is not installed
  | 'port-in-use' // a port of the lab's block is taken by another process
  | 'command-failed' // a set-up command (openssl, chown ...) exited non-zero
  | 'server-exited' // a lab server exited while starting
  | 'server-error' // a lab server logged an error that means it cannot serve (port, certificate)
  | 'not-ready' // a lab server did not become ready within its time limit
  | 'bad-state' // lab.json is missing or malformed
  | 'control-failed'; // a command on the lab's control channel (control.ts) failed or got no answer

export class LabError extends QuiverError<LabErrorCode> {}
