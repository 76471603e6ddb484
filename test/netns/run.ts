/**
 * Runs the system commands of the namespace toolkit (ip, iptables, sysctl) synchronously: each
 * is a few milliseconds, and a setup that fails half-way should stop right there with the
 * command and the kernel's complaint in the error.
 */
import { spawnSync } from 'node:child_process';

/** A command of the toolkit failed; `code` is stable for tests that expect a failure. */
export class NetnsCommandError extends Error {
  readonly code = 'netns-command-failed';
  readonly command: string;
  readonly stderr: string;

  constructor(command: string, stderr: string) {
    super(`${command}: ${stderr || 'failed'}`);
    this.name = 'NetnsCommandError';
    this.command = command;
    this.stderr = stderr;
  }
}

/** Runs `cmd args…`; returns its stdout; throws `NetnsCommandError` when it exits non-zero. */
export function run(cmd: string, ...args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new NetnsCommandError(`${cmd} ${args.join(' ')}`, r.error.message);
  if (r.status !== 0) throw new NetnsCommandError(`${cmd} ${args.join(' ')}`, r.stderr.trim());
  return r.stdout;
}

/**
 * Runs `cmd args…` where failure is an expected outcome (cleanup of what may already be gone);
 * returns whether it succeeded.
 */
export function attempt(cmd: string, ...args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
}
