/**
 * The one place the core is assembled: storage, secrets, the connection manager; implements the
 * contract's commands. Electron's main process, the browser host, the CLI and tests all start
 * Quiver through `createCore`.
 */
import type { EventEnvelope, Handlers } from './contract/index.ts';
import type { SecretStore } from './storage/secretStore.ts';

export interface QuiverCore {
  /** One handler per contract command (checked at compile time); hosts call them through `dispatch`. */
  readonly handlers: Handlers;
  /** Every event for the UI; returns the function that unsubscribes. */
  subscribe(listener: (event: EventEnvelope) => void): () => void;
  /** Closes every stream cleanly and the database. */
  close(): Promise<void>;
}

export interface CoreOptions {
  /** Where quiver.db lives. */
  dataDir: string;
  secrets: SecretStore;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string, detail?: unknown) => void;
}

export async function createCore(options: CoreOptions): Promise<QuiverCore> {
  void options;
  throw new Error('createCore: being assembled');
}
