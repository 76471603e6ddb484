/**
 * An in-memory transport pair for tests: the UI side gets a `ContractTransport`, the host side
 * gets `emit`. Arguments and results are copied through JSON, as they are over the WebSocket host.
 */
import { dispatch, type Handlers } from './commands.ts';
import type { ContractTransport } from './api.ts';
import type { EventEnvelope } from './events.ts';

const copy = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

export function createMemoryTransport(handlers: Handlers): {
  transport: ContractTransport;
  emit(event: EventEnvelope): void;
} {
  const listeners = new Set<(event: EventEnvelope) => void>();
  return {
    transport: {
      async invoke(name, args) {
        return copy(await dispatch(handlers, name, copy(args)));
      },
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    emit(event) {
      for (const listener of listeners) listener(copy(event));
    },
  };
}
