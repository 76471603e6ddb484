/**
 * Pumps a sans-IO ClientStreamMachine over a ByteTransport: bytes in, bytes out, one timer at the
 * machine's next deadline. This and the QUIC endpoint are the only places in the XMPP path that
 * own a socket or a timer.
 *
 * The machine is private: every command goes through a method here that gives it to the machine
 * and then pumps, so no caller can forget to flush what the command queued.
 */
import type {
  ArchiveQuery,
  ChannelBinding,
  ChatState,
  ClientState,
  ClientStreamMachine,
  StreamEvent,
  StreamState,
} from '../xmpp/streamMachine.ts';
import type { Element } from 'ltx';
import type { OutgoingPresence } from '../xmpp/stanzas.ts';
import type { SmState } from '../xmpp/streamManagement.ts';
import type { ByteTransport } from '../transport/byteTransport.ts';

export class StreamDriver {
  readonly #machine: ClientStreamMachine;
  #transport: ByteTransport;
  #timer: NodeJS.Timeout | null = null;
  #onEvent: (event: StreamEvent) => void;
  #onFault: (error: unknown) => void;
  #transportClosed = false;
  #pumping = false;
  /**
   * Set after delivering `online` or `resumed` (or `features`, goal 'features'): the connector hands the stream to its next owner, and events
   * that arrived in the same read (a message, a stream error) must wait for that owner rather than
   * reach the connector, which has nothing to do with them.
   */
  #held = false;

  /**
   * @param onFault called when an event handler throws (a bug, or input the handler could not
   *   take): the stream is then closed, so one bad stanza cannot escape into the socket callback.
   */
  constructor(
    machine: ClientStreamMachine,
    transport: ByteTransport,
    onEvent: (event: StreamEvent) => void,
    onFault: (error: unknown) => void = () => undefined,
  ) {
    this.#machine = machine;
    this.#transport = transport;
    this.#onEvent = onEvent;
    this.#onFault = onFault;
  }

  /**
   * Hands the stream to a new owner. Events held since `online` are delivered to it now, in order.
   */
  setEventHandler(onEvent: (event: StreamEvent) => void, onFault?: (error: unknown) => void): void {
    this.#onEvent = onEvent;
    if (onFault) this.#onFault = onFault;
    if (this.#held) {
      this.#held = false;
      this.#pump();
    }
  }

  get transport(): ByteTransport {
    return this.#transport;
  }

  /** The machine's state: 'online' once bound, 'closing' / 'closed' at the end. */
  get state(): StreamState {
    return this.#machine.state;
  }

  /** Starts reading from the transport and runs `start` on the machine. */
  start(): void {
    this.#transport.setHandlers({
      onData: (chunk) => {
        try {
          this.#machine.handleBytes(chunk, Date.now());
        } catch (error) {
          // A bug the server's bytes reached must end this stream, never the process (this runs
          // in the socket's callback): report it and drop the transport; 'closed' follows.
          this.#onFault(error);
          this.#transport.destroy();
          return;
        }
        this.#pump();
      },
      onClose: (error) => {
        this.#transportClosed = true;
        this.#machine.handleTransportClosed(Date.now(), error?.message);
        this.#pump();
        this.#clearTimer();
      },
    });
    this.#machine.start(Date.now());
    this.#pump();
  }

  /**
   * After a 'tls-required' event, once the transport is upgraded and the verifier accepted the
   * server: restarts the stream over TLS (`ClientStreamMachine.handleTlsUp`).
   */
  tlsUp(channelBinding: ChannelBinding | null): void {
    this.#machine.handleTlsUp(channelBinding, Date.now());
    this.#pump();
  }

  /** RFC 6121 §5: sends a message once online; returns its id. */
  sendMessage(message: Parameters<ClientStreamMachine['sendMessage']>[0]): string {
    const id = this.#machine.sendMessage(message);
    this.#pump();
    return id;
  }

  /** RFC 6121 §4: sends presence once online; no argument is the initial available presence. */
  sendPresence(presence?: OutgoingPresence): void {
    this.#machine.sendPresence(presence);
    this.#pump();
  }

  /** XEP-0184: acknowledges the message `theirId` from `to`, once it is stored; returns the ack's id. */
  sendReceipt(to: string, theirId: string, type?: 'chat' | 'normal'): string {
    const id = this.#machine.sendReceipt(to, theirId, type);
    this.#pump();
    return id;
  }

  /** XEP-0085: a standalone chat state notification (composing, paused ...); returns its id. */
  sendChatState(to: string, state: ChatState): string {
    const id = this.#machine.sendChatState(to, state);
    this.#pump();
    return id;
  }

  /** XEP-0280: enables carbons; 'carbons-enabled' or 'carbons-failed' follows with this id. */
  enableCarbons(): string {
    const id = this.#machine.enableCarbons();
    this.#pump();
    return id;
  }

  /**
   * XEP-0352: tells the server whether the window is seen ('active') or hidden ('inactive'). False,
   * and nothing sent, when the server offers no <csi/> or already has that state (`force`: send
   * anyway, e.g. on a resumed stream whose server may hold the former stream's state).
   */
  setClientState(state: ClientState, force = false): boolean {
    const sent = this.#machine.setClientState(state, force);
    this.#pump();
    return sent;
  }

  /**
   * XEP-0313: queries the account's archive; returns the queryid. Results arrive as 'message' events
   * with `archive`, then 'archive-page' or 'archive-failed' (ArchiveCatchUp plans the pages).
   */
  queryArchive(query: ArchiveQuery): string {
    const queryId = this.#machine.queryArchive(query);
    this.#pump();
    return queryId;
  }

  /** XEP-0199: pings the server once online; the answer arrives as a 'pong' event with this id. */
  sendPing(): string {
    const id = this.#machine.sendPing();
    this.#pump();
    return id;
  }

  /**
   * XEP-0198 §4: asks the server to acknowledge what it has handled (<r/>); the answer arrives as
   * an 'sm-acked' event. False, and nothing sent, when stream management is not enabled (yet).
   */
  requestAck(): boolean {
    const sent = this.#machine.requestAck();
    this.#pump();
    return sent;
  }

  /** XEP-0198 (`ClientStreamMachine.streamManagementStatus`): 'on', 'pending' or 'off', and our stanza counter. */
  streamManagementStatus(): { phase: 'off' | 'pending' | 'on'; sent: number } {
    return this.#machine.streamManagementStatus();
  }

  /**
   * XEP-0198 (`ClientStreamMachine.streamManagementState`): what a later stream needs to resume
   * this one, read once the stream is over; null when stream management was never on.
   */
  streamManagementState(): SmState | null {
    return this.#machine.streamManagementState();
  }

  /** An IQ to the account's server once online; its answer arrives as one 'iq-answer' event. */
  sendRequest(build: (id: string) => Element): string {
    const id = this.#machine.sendRequest(build);
    this.#pump();
    return id;
  }

  /** RFC 6121 §2.1.3: asks for the roster once online; the answer arrives as a 'roster' event. */
  requestRoster(ver?: string): string {
    const id = this.#machine.requestRoster(ver);
    this.#pump();
    return id;
  }

  /** Orderly close (`ClientStreamMachine.close`); 'closed' follows when the peer closed too or after the step timeout. */
  close(): void {
    this.#machine.close(Date.now());
    this.#pump();
  }

  /**
   * Runs after every input and every command given to the machine: writes what it has to send,
   * delivers its events, re-arms the timer. Re-entrant calls (a handler that sends) are folded in.
   * Private: the methods above call it, so nothing outside can forget it.
   */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        let progressed = this.#writeTransmit();
        const event = this.#held ? undefined : this.#machine.pollEvent();
        if (event) {
          progressed = true;
          this.#deliver(event);
          if (event.type === 'online' || event.type === 'resumed' || event.type === 'features') this.#held = true;
          if (event.type === 'closed') this.#finish();
        } else if (this.#writeTransmit()) {
          // Handing out the last events may queue bytes: XEP-0198's <a h/>, once they were handled.
          progressed = true;
        }
        if (!progressed) break;
      }
    } finally {
      this.#pumping = false;
    }
    this.#armTimer();
  }

  /** Writes what the machine has to send; true when there was something. */
  #writeTransmit(): boolean {
    let wrote = false;
    for (let data = this.#machine.pollTransmit(); data; data = this.#machine.pollTransmit()) {
      wrote = true;
      if (!this.#transportClosed) this.#transport.write(data);
    }
    return wrote;
  }

  /** Ends the transport without a stream close (the machine already closed or failed). */
  destroy(): void {
    this.#clearTimer();
    this.#transport.destroy();
  }

  #deliver(event: StreamEvent): void {
    try {
      this.#onEvent(event);
    } catch (error) {
      this.#onFault(error);
      if (event.type !== 'closed' && this.#machine.state !== 'closed' && this.#machine.state !== 'closing') {
        this.#machine.close(Date.now());
      }
    }
  }

  #finish(): void {
    this.#clearTimer();
    if (this.#transportClosed) return;
    this.#transport.end();
    // The stream is over: give the peer a moment to close its side, then let the socket go.
    const linger = setTimeout(() => this.#transport.destroy(), 2_000);
    linger.unref();
  }

  #armTimer(): void {
    this.#clearTimer();
    const deadline = this.#machine.pollTimeout();
    if (deadline === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#machine.handleTimeout(Date.now());
        this.#pump();
      },
      Math.max(0, deadline - Date.now()),
    );
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
