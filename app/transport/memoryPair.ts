/**
 * Two connected in-memory transports, for tests of anything that runs over a `ByteTransport`.
 * Delivery is asynchronous (a microtask), as a socket's is.
 */
import type { ByteTransport, TransportHandlers } from './byteTransport.ts';

class MemoryEnd implements ByteTransport {
  peer!: MemoryEnd;
  #handlers: TransportHandlers | null = null;
  #pending: Uint8Array[] = [];
  #closed = false;
  #endPending = false;
  readonly description: string;

  constructor(description: string) {
    this.description = description;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    for (const chunk of this.#pending.splice(0)) handlers.onData(chunk);
    if (this.#endPending) this.#close(null);
  }

  write(data: Uint8Array): void {
    if (this.#closed) return;
    const copy = new Uint8Array(data);
    queueMicrotask(() => this.peer.#receive(copy));
  }

  end(): void {
    queueMicrotask(() => {
      this.peer.#remoteEnd();
      this.#close(null);
    });
  }

  destroy(): void {
    this.end();
  }

  #receive(chunk: Uint8Array): void {
    if (this.#closed) return;
    if (this.#handlers) this.#handlers.onData(chunk);
    else this.#pending.push(chunk);
  }

  #remoteEnd(): void {
    if (this.#handlers) this.#close(null);
    else this.#endPending = true;
  }

  #close(error: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.onClose(error);
  }
}

export function createMemoryPair(): [ByteTransport, ByteTransport] {
  const a = new MemoryEnd('memory a');
  const b = new MemoryEnd('memory b');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
