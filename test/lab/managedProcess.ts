import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { LabError } from './labError.ts';

/** Every lab process still running, so an unexpected exit of this Node process kills them too. */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL each group, nothing to wait for.
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
}

/**
 * A lab server process. It is spawned as the leader of its own process group (`detached`), so
 * `stop()` can signal the whole group: nsd forks workers and setpriv execs Prosody, and none of
 * them may outlive the lab. stdout and stderr go to `logFile`, whose tail ends up in start errors.
 */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set when the spawn itself failed (e.g. the binary is missing). */
  spawnError: Error | undefined;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(name: string, command: string, args: readonly string[], logFile: string) {
    this.name = name;
    this.logFile = logFile;
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    installExitHook();
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      this.child.once('error', (err) => {
        // spawn failed (e.g. ENOENT): there is no process to wait for.
        live.delete(this);
        this.#exit = { code: null, signal: null };
        this.spawnError = err;
        resolve(this.#exit);
      });
    });
  }

  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** The last `lines` lines of the process's log files (its own output plus any `extraLogs`). */
  tail(lines = 25, extraLogs: readonly string[] = []): string {
    const parts: string[] = [];
    for (const file of [this.logFile, ...extraLogs]) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        parts.push(`(${file}: ${(err as Error).message})`);
        continue;
      }
      const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
      parts.push(`--- ${file} ---\n${tail || '(empty)'}`);
    }
    return parts.join('\n');
  }

  /** The error to throw when the process died during start-up. */
  exitedError(extraLogs: readonly string[] = []): LabError {
    const how = this.spawnError
      ? `could not be started: ${this.spawnError.message}`
      : `exited during start-up (code ${this.#exit?.code}, signal ${this.#exit?.signal})`;
    return new LabError('server-exited', `lab: ${this.name} ${how}\n${this.tail(25, extraLogs)}`);
  }

  /**
   * SIGTERM to the process group, SIGKILL to it if the leader has not exited after `graceMs`, and
   * SIGKILL to whatever is left of the group once the leader is gone. Resolves once the leader has
   * exited. Safe to call more than once.
   */
  async stop(graceMs = 3000): Promise<void> {
    if (this.hasExited || this.child.pid === undefined) {
      this.#killGroup('SIGKILL'); // anything forked that outlived the leader
      return;
    }
    this.#killGroup('SIGTERM');
    const timer = setTimeout(() => this.#killGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.#killGroup('SIGKILL');
  }

  /** SIGKILL to the group, synchronously; for process exit paths that cannot wait. */
  killNow(): void {
    this.#killGroup('SIGKILL');
  }

  #killGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      // ESRCH: the group is already gone, which is what we want.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

/**
 * Runs a set-up command to completion (in `opts.cwd` if given: ldns-keygen writes its key files
 * into the current directory); throws a LabError with its output if it fails. Resolves with its
 * stdout and stderr together.
 */
export async function run(
  command: string,
  args: readonly string[],
  what: string,
  opts: { cwd?: string } = {},
): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  // 'close', not 'exit': only then has all of its output been read.
  const [code] = (await Promise.race([
    once(child, 'close'),
    once(child, 'error').then(([err]) => {
      throw new LabError('command-failed', `lab: ${what}: cannot run ${command}: ${(err as Error).message}`);
    }),
  ])) as [number | null];
  if (code !== 0) {
    throw new LabError(
      'command-failed',
      `lab: ${what} failed (${command} ${args.join(' ')}, exit ${code}):\n${out.trim()}`,
    );
  }
  return out;
}
