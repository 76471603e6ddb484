/**
 * `createApi(transport)`: the renderer's typed view of the host. The transport is Electron IPC in
 * the app (through the preload), a WebSocket in the browser host, or an in-memory pair in tests.
 */
import type { ArgsOf, CommandName, ResultOf, Result } from './commands.ts';
import type { EventEnvelope, EventName, Events } from './events.ts';
import { QuiverError } from './quiverError.ts';

export interface ContractTransport {
  invoke(name: CommandName, args: unknown): Promise<Result<unknown>>;
  /** Registers a listener for every event; returns the function that removes it. */
  subscribe(listener: (event: EventEnvelope) => void): () => void;
}

/** A failed command, as the UI sees it: `code` is stable, `message` is for a person. */
export class CommandError extends QuiverError {
  // Named here: the renderer's bundle is minified, which would rename the class.
  override readonly name = 'CommandError';
}

export interface Api {
  call<K extends CommandName>(name: K, args: ArgsOf<K>): Promise<ResultOf<K>>;
  on<K extends EventName>(name: K, listener: (payload: Events[K]) => void): () => void;
}

export function createApi(transport: ContractTransport): Api {
  return {
    async call(name, args) {
      const result = await transport.invoke(name, args);
      if (!result.ok) throw new CommandError(result.error.code, result.error.message);
      return result.value as never;
    },
    on(name, listener) {
      return transport.subscribe((event) => {
        if (event.name === name) listener(event.payload as never);
      });
    },
  };
}
