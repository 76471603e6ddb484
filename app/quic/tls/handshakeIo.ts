/**
 * What the client and server machines share: the output and event queues of a TlsHandshake and
 * the interface the facade drives each role through.
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
