/** RFC 9002 §5: RTT estimation. Times are in milliseconds. */

/** RFC 9002 §6.2.2: kInitialRtt = 333 ms. */
export const INITIAL_RTT = 333;
/** RFC 9002 §6.1.2: kGranularity = 1 ms. */
export const GRANULARITY = 1;

export class RttEstimator {
  latestRtt = 0;
  smoothedRtt = INITIAL_RTT;
  rttVar = INITIAL_RTT / 2;
  minRtt = Infinity;
  hasSample = false;

  /** RFC 9002 §5.3; `ackDelay` already limited to max_ack_delay once the handshake is confirmed. */
  update(latestRtt: number, ackDelay: number, handshakeConfirmed: boolean, maxAckDelay: number): void {
    this.latestRtt = latestRtt;
    if (!this.hasSample) {
      // §5.3: on the first RTT sample after initialization.
      this.minRtt = latestRtt;
      this.smoothedRtt = latestRtt;
      this.rttVar = latestRtt / 2;
      this.hasSample = true;
      return;
    }
    this.minRtt = Math.min(this.minRtt, latestRtt);
    const delay = handshakeConfirmed ? Math.min(ackDelay, maxAckDelay) : ackDelay;
    // §5.3: adjust for ack delay only if the result is not below min_rtt.
    const adjusted = latestRtt >= this.minRtt + delay ? latestRtt - delay : latestRtt;
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /** RFC 9002 §6.2.1: smoothed_rtt + max(4*rttvar, kGranularity), without max_ack_delay. */
  ptoBase(): number {
    return this.smoothedRtt + Math.max(4 * this.rttVar, GRANULARITY);
  }

  /** RFC 9002 §9.4 / RFC 9000 §9.4: a new path starts from the initial estimate. */
  reset(): void {
    this.latestRtt = 0;
    this.smoothedRtt = INITIAL_RTT;
    this.rttVar = INITIAL_RTT / 2;
    this.minRtt = Infinity;
    this.hasSample = false;
  }
}
