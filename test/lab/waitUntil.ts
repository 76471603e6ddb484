import { setTimeout as delay } from 'node:timers/promises';
import { LabError } from './labError.ts';
import type { ManagedProcess } from './managedProcess.ts';

/**
 * Polls `probe` until it resolves true, with a bounded total time. Start-up of a server is not an
 * event we can subscribe to, so this is the one place the lab polls; it gives up early, with the
 * server's log tail, as soon as the server process exits or the probe throws a LabError.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { server: ManagedProcess; timeoutMs?: number; intervalMs?: number; extraLogs?: readonly string[] },
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    if (opts.server.hasExited) throw opts.server.exitedError(opts.extraLogs);
    try {
      if (await probe()) return;
    } catch (err) {
      if (err instanceof LabError) throw err; // the probe saw a fatal failure: no point waiting
      lastError = err;
    }
    if (opts.server.hasExited) throw opts.server.exitedError(opts.extraLogs);
    if (Date.now() >= deadline) {
      const last = lastError instanceof Error ? ` (last probe error: ${lastError.message})` : '';
      throw new LabError(
        'not-ready',
        `lab: ${opts.server.name} was not ready within ${opts.timeoutMs ?? 10_000} ms: ${what}${last}\n${opts.server.tail(25, opts.extraLogs)}`,
      );
    }
    await Promise.race([delay(opts.intervalMs ?? 25), opts.server.exited]);
  }
}
