/**
 * Pumps a sans-IO ClientStreamMachine over a ByteTransport: bytes in, bytes out, one timer at the
 * machine's next deadline. This and the QUIC endpoint are the only places in the XMPP path that
 * own a socket or a timer.
 */
import type { ClientStreamMachine, StreamEvent } from '../xmpp/streamMachine.ts';
import type { ByteTransport } from '../transport/byteTransport.ts';

export class StreamDriver {
  readonly machine: ClientStreamMachine;
  #transport: ByteTransport;
  #timer: NodeJS.Timeout | null = null;
  #onEvent: (event: StreamEvent) => void;
  #transportClosed = false;
  #pumping = false;

  constructor(machine: ClientStreamMachine, transport: ByteTransport, onEvent: (event: StreamEvent) => void) {
    this.machine = machine;
    this.#transport = transport;
    this.#onEvent = onEvent;
  }

  /** Replaces the event handler (the connector hands the stream to the account session once online). */
  setEventHandler(onEvent: (event: StreamEvent) => void): void {
    this.#onEvent = onEvent;
  }

  get transport(): ByteTransport {
    return this.#transport;
  }

  /** Starts reading from the transport and runs `start` on the machine. */
  start(): void {
    this.#transport.setHandlers({
      onData: (chunk) => {
        this.machine.handleBytes(chunk, Date.now());
        this.pump();
      },
      onClose: (error) => {
        this.#transportClosed = true;
        this.machine.handleTransportClosed(Date.now(), error?.message);
        this.pump();
        this.#clearTimer();
      },
    });
    this.machine.start(Date.now());
    this.pump();
  }

  /**
   * Runs after every input and every command given to the machine: writes what it has to send,
   * delivers its events, re-arms the timer. Re-entrant calls (a handler that sends) are folded in.
   */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        let progressed = false;
        for (let data = this.machine.pollTransmit(); data; data = this.machine.pollTransmit()) {
          progressed = true;
          if (!this.#transportClosed) this.#transport.write(data);
        }
        const event = this.machine.pollEvent();
        if (event) {
          progressed = true;
          this.#onEvent(event);
          if (event.type === 'closed') this.#finish();
        }
        if (!progressed) break;
      }
    } finally {
      this.#pumping = false;
    }
    this.#armTimer();
  }

  /** Ends the transport without a stream close (the machine already closed or failed). */
  destroy(): void {
    this.#clearTimer();
    this.#transport.destroy();
  }

  #finish(): void {
    this.#clearTimer();
    if (!this.#transportClosed) this.#transport.end();
  }

  #armTimer(): void {
    this.#clearTimer();
    const deadline = this.machine.pollTimeout();
    if (deadline === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.machine.handleTimeout(Date.now());
      this.pump();
    }, Math.max(0, deadline - Date.now()));
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
