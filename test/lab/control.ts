/**
 * The lab's control channel: tests run in a child of the lab process (scripts/withLab.ts) and
 * cannot reach its servers' processes, so the lab listens on a unix socket in its dir
 * (`lab.control`) for a few commands, one per connection:
 *
 *   client → lab:  `restart prosody\n`   (the TLS Prosody 0.12: alpha.test and the other TLS hosts)
 *                  `restart prosody13\n` (Prosody 13: modern.test)
 *                  `swap-key selfsigned\n` (a new self-signed key for selfsigned.test: keySwap.ts;
 *                  restarts the TLS Prosody, and lab.json then lists the new certificate)
 *   lab → client:  `ok\n` once the server listens again (presenting the new key), or `error <one line>\n`
 *
 * Commands run one at a time, in the order they arrive. Only root (the lab's user) can connect:
 * the socket is mode 0600.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { LabError } from './labError.ts';

/** What the control channel can be asked. */
export type LabCommand = 'restart prosody' | 'restart prosody13' | 'swap-key selfsigned';

export const LAB_COMMANDS: readonly LabCommand[] = ['restart prosody', 'restart prosody13', 'swap-key selfsigned'];

/** A command line longer than this is not one of ours: the connection is answered and closed. */
const MAX_LINE = 256;

/** Where the lab's control socket lives in its dir. */
export function labControlPath(labDir: string): string {
  return join(labDir, 'control.sock');
}

export interface LabControl {
  /** Stops listening and removes the socket; waits for a command under way. */
  close(): Promise<void>;
}

/**
 * Listens on `path` and runs `handlers[command]` for each command received, one at a time. The
 * caller MUST `close()` it (before stopping the servers the handlers touch).
 */
export async function startLabControl(
  path: string,
  handlers: Readonly<Record<LabCommand, () => Promise<void>>>,
): Promise<LabControl> {
  let queue: Promise<void> = Promise.resolve();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy()); // the client went away; its answer has no reader
    let line = '';
    const onData = (chunk: string): void => {
      line += chunk;
      const end = line.indexOf('\n');
      if (end < 0 && line.length <= MAX_LINE) return;
      socket.off('data', onData);
      const command = (end < 0 ? line : line.slice(0, end)).trim();
      if (!(LAB_COMMANDS as readonly string[]).includes(command)) {
        socket.end(
          `error unknown command ${JSON.stringify(command.slice(0, 60))}; known: ${LAB_COMMANDS.join(', ')}\n`,
        );
        return;
      }
      const run = queue.then(() => handlers[command as LabCommand]());
      queue = run.then(
        () => undefined,
        () => undefined, // the failure is the caller's, answered below; the next command still runs
      );
      run.then(
        () => socket.end('ok\n'),
        (err: unknown) => socket.end(`error ${oneLine(err)}\n`),
      );
    };
    socket.setEncoding('utf8').on('data', onData);
  });
  await rm(path, { force: true });
  server.listen(path);
  await once(server, 'listening');
  await chmod(path, 0o600);
  return {
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      for (const s of sockets) s.destroy();
      await closed;
      await rm(path, { force: true });
    },
  };
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').slice(0, 2000);
}

/**
 * Sends `command` to the lab whose control socket is `path` (`lab.control`) and resolves once the
 * lab answered `ok` (for a restart: the server listens again, every host answering). Rejects with
 * a LabError (`control-failed`) carrying the lab's answer, or when there is no answer within
 * `timeoutMs`.
 */
export async function labControl(path: string, command: LabCommand, timeoutMs = 30_000): Promise<void> {
  const socket = createConnection(path);
  socket.setEncoding('utf8');
  let answer = '';
  socket.on('data', (chunk: string) => (answer += chunk));
  const timer = setTimeout(
    () => socket.destroy(new Error(`no answer to "${command}" within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await once(socket, 'connect');
    socket.write(`${command}\n`);
    await once(socket, 'end');
  } catch (err) {
    throw new LabError('control-failed', `lab control (${path}): ${command}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  const reply = answer.trim();
  if (reply !== 'ok') throw new LabError('control-failed', `lab control: ${command}: ${reply || 'no answer'}`);
}
