/**
 * Runs one bench subject (a script that prints one JSON line and exits 0) as a fresh process
 * inside a network namespace, for the tables of issue 12 (reconnectTable.ts, warmStartTable.ts).
 */
import type { NetNamespace } from '../netns/netNamespace.ts';

/** Resolves with the subject's JSON line; rejects with its stderr's telling line when it fails or takes over `timeoutMs`. */
export function runJsonSubject<T>(ns: NetNamespace, script: string, args: string[], timeoutMs = 60_000): Promise<T> {
  const child = ns.spawn(process.execPath, [script, ...args]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as T);
      else reject(new Error(`exit ${code ?? signal}: ${tellingLine(err) || '(no output)'}`));
    });
  });
}

/** The line of the thrown error (`ConnectError: ...`), else the first that names an error, else the last one. */
function tellingLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? '')
    .trim()
    .slice(0, 300);
}

/** Outcomes of one row over several runs: what succeeded, and the first failure's words. */
export class Cell<T> {
  readonly results: T[] = [];
  readonly errors: string[] = [];

  async run(measure: () => Promise<T>): Promise<void> {
    try {
      this.results.push(await measure());
    } catch (err) {
      this.errors.push(err instanceof Error ? err.message : String(err));
    }
  }

  /** "n of m runs failed: why", or '' when none did. */
  failures(runs: number): string {
    return this.errors.length ? `${this.errors.length} of ${runs} runs failed: ${this.errors[0]}` : '';
  }
}
