/**
 * Reads the JSON lines a child process prints (quicStreamPeer.ts and similar) and lets a test wait
 * for the first one that matches, without sleeping: `await lines.waitFor((m) => m.event === 'x')`.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export type JsonMessage = Record<string, unknown> & { event?: string };

export class JsonLines {
  private readonly seen: JsonMessage[] = [];
  private readonly waiters = new Set<{ match: (m: JsonMessage) => boolean; resolve: (m: JsonMessage) => void }>();
  private stderr = '';
  private exited: string | null = null;
  private readonly onExitWaiters = new Set<(why: string) => void>();
  readonly child: ChildProcessWithoutNullStreams;

  constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let m: JsonMessage;
      try {
        m = JSON.parse(line) as JsonMessage;
      } catch (err) {
        // Not ours (a warning printed by the runtime): keep it with stderr for the failure message.
        this.stderr += `${line} (${String(err)})\n`;
        return;
      }
      this.seen.push(m);
      for (const w of [...this.waiters]) {
        if (!w.match(m)) continue;
        this.waiters.delete(w);
        w.resolve(m);
      }
    });
    child.once('exit', (code, signal) => {
      this.exited = `exited (${code ?? signal})`;
      for (const f of this.onExitWaiters) f(this.exited);
    });
  }

  /** Sends one JSON line to the child's stdin. */
  send(message: object): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /**
   * The first message (already seen or still to come) that matches; rejects when the child exits
   * first or after `timeoutMs`, naming `what` and with what the child printed on stderr.
   */
  waitFor<T extends JsonMessage = JsonMessage>(
    match: (m: JsonMessage) => boolean,
    what = 'the expected message',
    timeoutMs = 20_000,
  ): Promise<T> {
    const found = this.seen.find(match);
    if (found) return Promise.resolve(found as T);
    return new Promise<T>((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        this.onExitWaiters.delete(fail);
        const last = JSON.stringify(this.seen.at(-1) ?? null);
        reject(new Error(`${why} before ${what} (last message: ${last}); stderr: ${this.stderr.trim() || '(empty)'}`));
      };
      const waiter = {
        match,
        resolve: (m: JsonMessage) => {
          clearTimeout(timer);
          this.onExitWaiters.delete(fail);
          resolve(m as T);
        },
      };
      const timer = setTimeout(() => fail(`no message within ${timeoutMs} ms`), timeoutMs);
      this.waiters.add(waiter);
      if (this.exited) fail(this.exited);
      else this.onExitWaiters.add(fail);
    });
  }
}
