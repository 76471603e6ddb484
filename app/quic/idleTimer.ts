/**
 * The idle timeout (RFC 9000 §10.1) and our keep-alive (§10.1.2): when the connection was last
 * active, when it last sent an ack-eliciting packet, whether it did so since the last packet it
 * received, and the idle deadline those give.
 *
 * Obligations of the caller (`QuicConnection`):
 * - report every successfully processed packet to `onPacketReceived` and every ack-eliciting packet
 *   sent to `onAckElicitingSent`, with the peer's max_idle_timeout (0 until known) and the current PTO;
 * - include `deadline` in its timeout and close silently when it passes; `stop` it when closing;
 * - ask for an ack-eliciting packet at `keepAliveDeadline` (once the handshake is complete).
 */

export interface IdleTimerOptions {
  now: number;
  /** Our max_idle_timeout in milliseconds (0: none). */
  localTimeout: number;
  /** Milliseconds of quiet after which we send a PING (0: never). */
  keepAliveInterval: number;
}

export class IdleTimer {
  private readonly localTimeout: number;
  private keepAliveInterval: number;
  private lastActivity: number;
  private lastAckElicitingSent = -Infinity;
  private ackElicitingSinceReceive = false;
  private idleDeadline = Infinity;

  constructor(opts: IdleTimerOptions) {
    this.localTimeout = opts.localTimeout;
    this.keepAliveInterval = opts.keepAliveInterval;
    this.lastActivity = opts.now;
  }

  /** When the connection times out; Infinity when neither side set a timeout, or once stopped. */
  get deadline(): number {
    return this.idleDeadline;
  }

  /** When a keep-alive PING is due; Infinity without a keep-alive interval. */
  get keepAliveDeadline(): number {
    if (!this.keepAliveInterval) return Infinity;
    return Math.max(this.lastActivity, this.lastAckElicitingSent) + this.keepAliveInterval;
  }

  /** The keep-alive interval in ms (0: none). */
  get keepAlive(): number {
    return this.keepAliveInterval;
  }

  /** Turns the keep-alive on (`interval` ms of quiet before a PING) or off (0). */
  setKeepAlive(interval: number): void {
    this.keepAliveInterval = interval;
  }

  /** Starts the timer (the connection was just created) or restarts it. */
  restart(now: number, peerTimeout: number, pto: number): void {
    this.lastActivity = now;
    const local = this.localTimeout;
    // RFC 9000 §10.1: the effective timeout is the minimum of both advertised values (0 = none),
    // and at least three times the current PTO.
    const t = local && peerTimeout ? Math.min(local, peerTimeout) : local || peerTimeout;
    this.idleDeadline = t ? now + Math.max(t, 3 * pto) : Infinity;
  }

  /** RFC 9000 §10.1: the idle timer restarts when a packet is successfully processed. */
  onPacketReceived(now: number, peerTimeout: number, pto: number): void {
    this.restart(now, peerTimeout, pto);
    this.ackElicitingSinceReceive = false;
  }

  /** RFC 9000 §10.1: sending the first ack-eliciting packet after receiving restarts the idle timer. */
  onAckElicitingSent(now: number, peerTimeout: number, pto: number): void {
    this.lastAckElicitingSent = now;
    if (this.ackElicitingSinceReceive) return;
    this.ackElicitingSinceReceive = true;
    this.restart(now, peerTimeout, pto);
  }

  /** The connection is closing: no idle timeout any more. */
  stop(): void {
    this.idleDeadline = Infinity;
  }
}
