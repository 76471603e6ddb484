/**
 * RFC 9002 §7: NewReno congestion control, with the pacer of §7.7. Times in milliseconds, sizes
 * in bytes.
 */

/** RFC 9002 §7.3: kLossReductionFactor = 0.5. */
const LOSS_REDUCTION_FACTOR = 0.5;
/** RFC 9002 §7.6: kPersistentCongestionThreshold = 3. */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;

export class CongestionController {
  maxDatagramSize: number;
  congestionWindow: number;
  bytesInFlight = 0;
  ssthresh = Infinity;
  /** The time the current recovery period started; packets sent before it do not reduce the window again. */
  recoveryStartTime = -Infinity;
  /** Pacer state (§7.7): tokens in bytes, refilled at 1.25 * cwnd / srtt. */
  private tokens: number;
  private lastRefill = 0;

  constructor(maxDatagramSize: number) {
    this.maxDatagramSize = maxDatagramSize;
    this.congestionWindow = this.initialWindow();
    this.tokens = this.congestionWindow;
  }

  /**
   * RFC 9002 §7.2: "If the maximum datagram size changes during the connection, the initial
   * congestion window SHOULD be recalculated with the new size." A window that has not yet seen
   * congestion is raised to the new initial window (never lowered).
   */
  setMaxDatagramSize(size: number): void {
    this.maxDatagramSize = size;
    if (this.ssthresh === Infinity) this.congestionWindow = Math.max(this.congestionWindow, this.initialWindow());
  }

  /** RFC 9002 §7.2: min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)). */
  initialWindow(): number {
    return Math.min(10 * this.maxDatagramSize, Math.max(14720, 2 * this.maxDatagramSize));
  }

  /** §7.2: kMinimumWindow = 2 * max_datagram_size. */
  minimumWindow(): number {
    return 2 * this.maxDatagramSize;
  }

  get available(): number {
    return Math.max(0, this.congestionWindow - this.bytesInFlight);
  }

  /** `paced`: charged to the pacer (every packet but PMTU probes, which must not delay data). */
  onPacketSent(bytes: number, now: number, paced = true): void {
    this.bytesInFlight += bytes;
    if (paced) this.tokens -= bytes;
    if (this.lastRefill === 0) this.lastRefill = now;
  }

  /** §7.3.1 slow start and §7.3.3 congestion avoidance (Appendix B.5 OnPacketsAcked). */
  onPacketAcked(bytes: number, timeSent: number, appLimited: boolean): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
    if (timeSent <= this.recoveryStartTime) return;
    // §7.8: the congestion window SHOULD NOT be increased when it is not fully utilized.
    if (appLimited) return;
    if (this.congestionWindow < this.ssthresh) this.congestionWindow += bytes;
    else this.congestionWindow += (this.maxDatagramSize * bytes) / this.congestionWindow;
  }

  /** Removes packets from bytes in flight without a congestion signal (discarded keys, path change). */
  onPacketDiscarded(bytes: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
  }

  /** Appendix B.6 OnCongestionEvent: enter recovery unless the lost packet was sent during it. */
  onCongestionEvent(timeSent: number, now: number): void {
    if (timeSent <= this.recoveryStartTime) return;
    this.recoveryStartTime = now;
    this.ssthresh = Math.max(this.congestionWindow * LOSS_REDUCTION_FACTOR, this.minimumWindow());
    this.congestionWindow = this.ssthresh;
  }

  /** §7.6.2: on persistent congestion the window collapses to the minimum. */
  onPersistentCongestion(): void {
    this.congestionWindow = this.minimumWindow();
    this.recoveryStartTime = -Infinity;
  }

  /** RFC 9000 §9.4: a new path gets a fresh controller state. */
  reset(): void {
    this.congestionWindow = this.initialWindow();
    this.ssthresh = Infinity;
    this.recoveryStartTime = -Infinity;
    this.bytesInFlight = 0;
    this.tokens = this.congestionWindow;
  }

  /**
   * §7.7 pacing: returns 0 when a packet of `bytes` may leave now, otherwise the time at which it
   * may. The burst is limited to the initial window.
   */
  pacingDelay(bytes: number, now: number, smoothedRtt: number): number {
    const rate = (1.25 * this.congestionWindow) / Math.max(smoothedRtt, 0.001); // bytes per ms
    // The bucket holds at least the initial window and what the rate yields over a 2 ms timer
    // tick, so coarse driver timers do not cap throughput.
    const burst = Math.max(this.initialWindow(), rate * 2);
    if (now > this.lastRefill) {
      this.tokens = Math.min(burst, this.tokens + (now - this.lastRefill) * rate);
      this.lastRefill = now;
    }
    // Within one byte counts as enough: float rounding must not produce ever tinier waits.
    if (this.tokens + 1 >= bytes) return 0;
    return now + Math.max((bytes - this.tokens) / rate, 0.05);
  }
}
