/**
 * What the client and server machines share: the output and event queues of a TlsHandshake, the
 * input buffer of each epoch, and the interface the facade drives each role through.
 */
import type { CipherSuiteInfo } from './cipherSuites.ts';
import type { Epoch, TlsEvent } from './tlsTypes.ts';
import type { TlsFacts } from '../../transport/tlsFacts.ts';

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
  /** The whole message, header included: what goes into the transcript. */
  raw: Uint8Array;
}

export class HandshakeIo {
  private outputs: { epoch: Epoch; data: Uint8Array }[] = [];
  private events: TlsEvent[] = [];

  /** Queue handshake bytes; consecutive messages of one epoch are coalesced. */
  send(epoch: Epoch, data: Uint8Array): void {
    const last = this.outputs.at(-1);
    if (last !== undefined && last.epoch === epoch) {
      const merged = new Uint8Array(last.data.length + data.length);
      merged.set(last.data, 0);
      merged.set(data, last.data.length);
      last.data = merged;
    } else {
      this.outputs.push({ epoch, data });
    }
  }

  emit(event: TlsEvent): void {
    this.events.push(event);
  }

  pollOutput(): { epoch: Epoch; data: Uint8Array } | undefined {
    return this.outputs.shift();
  }

  pollEvent(): TlsEvent | undefined {
    return this.events.shift();
  }

  /** After a fatal alert nothing more is sent but the CONNECTION_CLOSE (RFC 8446bis §6.2). */
  dropOutputs(): void {
    this.outputs = [];
  }
}

/**
 * The bytes of one epoch that have not yet formed a whole handshake message. Appending costs the
 * same per byte however the peer splits its messages (RFC 9000 §21.7: a message sent one byte per
 * CRYPTO frame must not make each byte cost a copy of all before it): the store grows by doubling
 * and is compacted only when the unread part has to move anyway.
 */
export class HandshakeBuffer {
  private store = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** The store never grows beyond this (or what is held, if the caller let more in). */
  private readonly capacityLimit: number;

  constructor(capacityLimit: number) {
    this.capacityLimit = capacityLimit;
  }

  /** Bytes held. */
  get length(): number {
    return this.end - this.start;
  }

  /** The byte at `index` from the front; the caller checks `index < length`. */
  at(index: number): number {
    return this.store[this.start + index]!;
  }

  append(data: Uint8Array): void {
    if (this.end + data.length > this.store.length) {
      const held = this.length;
      const need = held + data.length;
      // Compact in place when half the store is free; otherwise move into one twice the size.
      if (need * 2 <= this.store.length) this.store.copyWithin(0, this.start, this.end);
      else {
        const grown = new Uint8Array(Math.max(need, Math.min(Math.max(256, need * 2), this.capacityLimit)));
        grown.set(this.store.subarray(this.start, this.end), 0);
        this.store = grown;
      }
      this.start = 0;
      this.end = held;
    }
    this.store.set(data, this.end);
    this.end += data.length;
  }

  /** Removes and returns (as a copy) the first `n` bytes; the caller checks `n <= length`. */
  take(n: number): Uint8Array {
    const out = this.store.slice(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) {
      // Nothing left: start over at the front and let a large store go.
      this.start = 0;
      this.end = 0;
      if (this.store.length > 4096) this.store = new Uint8Array(0);
    }
    return out;
  }
}

/** One role of the handshake. Methods raise TlsAlertError for peer faults. */
export interface RoleMachine {
  /** The epoch the next handshake message must arrive in. */
  readonly readEpoch: Epoch;
  /** True while the machine waits for the caller (client: acceptPeer/rejectPeer). */
  readonly waiting: boolean;
  readonly complete: boolean;
  readonly alpn: string | null;
  readonly suite: CipherSuiteInfo | null;
  start(): void;
  handleMessage(message: HandshakeMessage): void;
  acceptPeer(): void;
  facts(): TlsFacts | null;
}
