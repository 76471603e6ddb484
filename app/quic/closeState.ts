/**
 * How a connection ends (RFC 9000 §10): the closing and draining states (§10.2), the
 * CONNECTION_CLOSE a closing endpoint repeats and when it is due (§10.2.1), how that frame looks in
 * each packet number space (§10.2.3), the deadline after which the state is discarded (three PTOs,
 * §10.2), and the `closed` / `drained` events that report it.
 *
 * Obligations of the caller (`QuicConnection`):
 * - enter closing with `close` (our error, or the application's), draining with `enterDraining`
 *   (the peer's CONNECTION_CLOSE, a stateless reset), or end at once with `closeSilently` (idle
 *   timeout, a failed path validation without fallback); stop its other timers when the first two
 *   return true;
 * - while `isClosing`, report each datagram received with `onDatagramWhileClosing` and send a
 *   CONNECTION_CLOSE (`frameFor` each space the peer can read) when `takeCloseDue()` returns true;
 * - while `isSilent`, neither process nor send packets (§10.2.2);
 * - include `deadline` in its timeout and call `drain` when it passes.
 * The decision to answer a closing-state datagram is made here alone (the rate of those answers,
 * §10.2.1); the caller still sends nothing beyond the path's anti-amplification credit (§8.1).
 */
import type { Frame } from './frame.ts';
import { APPLICATION, type SpaceId } from './packetSpace.ts';
import { TransportErrorCode, transportErrorName } from './quicError.ts';
import type { EndpointEvent, QuicEvent } from './quicEvent.ts';

export type ConnectionCloseFrame = Extract<Frame, { type: 'connection_close' }>;

/** `open` until the connection ends; `drained` once its state can be discarded. */
export type ClosePhase = 'open' | 'closing' | 'draining' | 'drained';

/** CONNECTION_CLOSE reason phrases are cut to this many characters. */
const MAX_REASON = 256;

export interface CloseStateOptions {
  /** Where `closed` is reported to the application. */
  events: QuicEvent[];
  /** Where `drained` is reported to the driver. */
  endpointEvents: EndpointEvent[];
}

export class CloseState {
  private current: ClosePhase = 'open';
  /** The CONNECTION_CLOSE a closing endpoint repeats (RFC 9000 §10.2.1). */
  private frame: ConnectionCloseFrame | null = null;
  private sendPending = false;
  /** Datagrams received while closing, and the count at which the next one is answered. */
  private receivedWhileClosing = 0;
  private nextAnswerAt = 1;
  /** When the closing or draining state ends (three PTOs after entering it); Infinity otherwise. */
  private drainDeadline = Infinity;
  private readonly events: QuicEvent[];
  private readonly endpointEvents: EndpointEvent[];

  constructor(opts: CloseStateOptions) {
    this.events = opts.events;
    this.endpointEvents = opts.endpointEvents;
  }

  get phase(): ClosePhase {
    return this.current;
  }

  /** Closing, draining or drained. */
  get isClosed(): boolean {
    return this.current !== 'open';
  }

  get isClosing(): boolean {
    return this.current === 'closing';
  }

  /** Draining or drained: RFC 9000 §10.2.2, the endpoint sends and processes nothing more. */
  get isSilent(): boolean {
    return this.current === 'draining' || this.current === 'drained';
  }

  get isDrained(): boolean {
    return this.current === 'drained';
  }

  /** When `drain` is due (closing or draining); Infinity otherwise. */
  get deadline(): number {
    return this.drainDeadline;
  }

  /**
   * Enters the closing state with our CONNECTION_CLOSE (RFC 9000 §10.2.1) until `deadline` and
   * reports `closed` (local). Returns false, changing nothing, when the connection is already closed.
   */
  close(code: number, reason: string, app: boolean, frameType: number, deadline: number): boolean {
    if (this.isClosed) return false;
    this.current = 'closing';
    this.frame = { type: 'connection_close', app, code, frameType, reason: reason.slice(0, MAX_REASON) };
    this.sendPending = true;
    this.drainDeadline = deadline;
    this.reportClosed(code, reason, true, app);
    return true;
  }

  /**
   * RFC 9000 §10.2.2: enters the draining state until `deadline`. Reports `closed` unless the
   * connection was already closing (that was reported then). Returns false, changing nothing,
   * when it is already draining or drained.
   */
  enterDraining(code: number, reason: string, local: boolean, app: boolean, deadline: number): boolean {
    if (this.isSilent) return false;
    const wasClosing = this.current === 'closing';
    this.current = 'draining';
    this.drainDeadline = deadline;
    if (!wasClosing) this.reportClosed(code, reason, local, app);
    return true;
  }

  /**
   * Ends the connection at once, without a CONNECTION_CLOSE: RFC 9000 §10.1 (idle timeout) and
   * §9.3.2 (a failed path validation with no validated address to return to). Reports `closed`
   * (local, code 0, `codeName` saying why) and then `drained`.
   */
  closeSilently(codeName: string, reason: string): void {
    this.events.push({ type: 'closed', code: 0, codeName, reason, local: true, app: false });
    this.current = 'draining';
    this.drain();
  }

  /** The closing or draining period is over: the driver may forget the connection. */
  drain(): void {
    if (this.current === 'drained') return;
    this.current = 'drained';
    this.drainDeadline = Infinity;
    this.endpointEvents.push({ type: 'drained' });
  }

  /**
   * A datagram arrived while closing. RFC 9000 §10.2.1: "An endpoint SHOULD limit the rate at
   * which it generates packets in the closing state. For instance, an endpoint could wait for a
   * progressively increasing number of received packets or amount of time before responding to
   * received packets." The 1st, 2nd, 4th, 8th ... datagram is answered: a peer that missed our
   * CONNECTION_CLOSE still hears it again soon, and a flood (from anyone: the datagram's source is
   * not where the answer goes) gets a logarithmic number of answers.
   */
  onDatagramWhileClosing(): void {
    if (++this.receivedWhileClosing < this.nextAnswerAt) return;
    this.nextAnswerAt *= 2;
    this.sendPending = true;
  }

  /** Whether a CONNECTION_CLOSE is due now; true once after `close` and after each answered `onDatagramWhileClosing`. */
  takeCloseDue(): boolean {
    if (this.current !== 'closing' || !this.sendPending || !this.frame) return false;
    this.sendPending = false;
    return true;
  }

  /**
   * The CONNECTION_CLOSE for a packet in space `id`. RFC 9000 §10.2.3: in Initial/Handshake an
   * application close becomes APPLICATION_ERROR (0x0c) without the reason.
   */
  frameFor(id: SpaceId): ConnectionCloseFrame | null {
    const frame = this.frame;
    if (!frame || id === APPLICATION || !frame.app) return frame;
    return {
      type: 'connection_close',
      app: false,
      code: TransportErrorCode.APPLICATION_ERROR,
      frameType: 0,
      reason: '',
    };
  }

  private reportClosed(code: number, reason: string, local: boolean, app: boolean): void {
    this.events.push({
      type: 'closed',
      code,
      codeName: app ? `application ${code}` : transportErrorName(code),
      reason,
      local,
      app,
    });
  }
}
