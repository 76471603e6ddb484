/**
 * Datagram Packetization Layer PMTU Discovery for one path (RFC 9000 §14.3, RFC 8899), sans-IO:
 * the connection asks which probe to send, reports what became of it, and uses `current` as its
 * maximum datagram size.
 *
 * Every path starts at BASE_PLPMTU (1200, which QUIC requires every path to carry) and climbs:
 * the common path MTUs of LADDER first (a VPN or a mobile link at 1400, Ethernet less IPv6 or
 * PPPoE headers, Ethernet), then the ceiling (the local interface's MTU, capped by the peer's
 * max_udp_payload_size: loopback's 64 KiB, a jumbo-frame LAN). The climb stops at the first
 * probe that is lost; one lost probe fails a size (RFC 8899's MAX_PROBES is 3).
 *
 * Why climb instead of a binary search: Node cannot set IP_PMTUDISC_DO. Linux's default
 * (IP_PMTUDISC_WANT) sets Don't Fragment only on datagrams within the path MTU the kernel knows;
 * once a router's ICMP "fragmentation needed" has taught it a smaller one, every larger datagram
 * is fragmented by our own kernel and arrives, so after a lost probe no larger probe proves
 * anything (RFC 9000 §14 forbids IP fragmentation). Only sizes acknowledged before the first
 * loss are known to pass whole. A path MTU the kernel learned before this connection started
 * (from another socket to the same address) would let the step above it "succeed" fragmented:
 * the endpoint caps the ceiling with it (the route cache read by driver/pathMtu.ts), where iproute2 is there.
 *
 * Black holes (RFC 8899 §4.3): when the path stops carrying our size without ICMP (a new tunnel,
 * a router change), packets above BASE_PLPMTU are lost while small ones (acknowledgments) still
 * pass. After BLACK_HOLE_THRESHOLD loss events made only of large packets, with no large packet
 * acknowledged in between, we drop back to BASE_PLPMTU and climb again below the size that failed.
 */

/** RFC 9000 §14: every QUIC path carries 1200-byte UDP payloads. */
export const BASE_PLPMTU = 1200;
/**
 * UDP payloads of common path MTUs, tried in this order below the ceiling: 1400 (VPNs, many
 * mobile links) less IPv4 and UDP headers; 1500 less IPv6's or 1480 less IPv4's; Ethernet's 1500.
 */
export const LADDER = [1372, 1452, 1472] as const;
/** A step the congestion window allows (see `probeSize`) must gain at least this much. */
export const MIN_STEP = 20;
/** RFC 8899 §5.1.1 PMTU_RAISE_TIMER: search for a larger size again after 600 s. */
export const RAISE_INTERVAL_MS = 600_000;
/** Loss events of only-large packets, without a large acknowledgment, that declare a black hole. */
export const BLACK_HOLE_THRESHOLD = 3;
/** After a black hole, wait this long before probing again (the path is unsettled). */
const BLACK_HOLE_BACKOFF_MS = 1_000;

export class MtuDiscovery {
  /** The validated size: the largest UDP payload the connection may send on this path. */
  current = BASE_PLPMTU;
  private ceiling = BASE_PLPMTU;
  /** The size a black hole took away (ceiling + 1 while none did): the climb stays below it. */
  private failed = BASE_PLPMTU + 1;
  /** A probe was lost in this climb: nothing larger can be proved any more (see above). */
  private lostSinceStart = false;
  private inFlight: number | null = null;
  /** When the next probe may go; Infinity while the search is idle. */
  private nextProbeAt = Infinity;
  private started = false;
  /** The climb ended; at `nextProbeAt` it climbs again (the raise timer). */
  private idle = false;
  private suspiciousLosses = 0;
  /** Counters for tests and the security details. */
  probesSent = 0;
  probesLost = 0;
  blackHoles = 0;

  /** Starts (or restarts, for a new path) discovery up to `ceiling` bytes of UDP payload. */
  start(ceiling: number, now: number): void {
    this.ceiling = Math.max(BASE_PLPMTU, Math.floor(ceiling));
    this.current = BASE_PLPMTU;
    this.failed = this.ceiling + 1;
    this.lostSinceStart = false;
    this.inFlight = null;
    this.suspiciousLosses = 0;
    this.started = true;
    this.idle = false;
    this.nextProbeAt = this.ceiling > BASE_PLPMTU ? now : Infinity;
  }

  /**
   * The size of the probe to send now, or null. The caller reports it with `onProbeSent`.
   *
   * `room` is what the congestion window allows right now (RFC 9000 §14.4: probes consume it).
   * A connection that has sent little has a window of ten 1200-byte packets, too small for a
   * 64 KiB probe: then the largest size that fits is probed instead, a step that the window
   * (recalculated for the new size, RFC 9002 §7.2) follows, so loopback's size is reached in a
   * few round trips even on a connection that carries nothing.
   */
  probeSize(now: number, room = Infinity): number | null {
    if (!this.started || this.inFlight !== null || now < this.nextProbeAt) return null;
    if (this.idle) {
      // RFC 8899 §5.1.1: after PMTU_RAISE_TIMER, climb again (what the kernel learned from ICMP
      // has expired by then too: Linux keeps it for 600 s).
      this.idle = false;
      this.failed = this.ceiling + 1;
      this.lostSinceStart = false;
    }
    const size = this.nextCandidate();
    if (size === null) {
      this.idle = true;
      this.nextProbeAt = this.current < this.ceiling ? now + RAISE_INTERVAL_MS : Infinity;
      return null;
    }
    if (size <= room) return size;
    const step = Math.floor(room);
    return step - this.current >= MIN_STEP ? step : null;
  }

  /** A climb is under way (false before `start`, once it ended, and while waiting to raise). */
  get searching(): boolean {
    return this.started && !this.idle && this.ceiling > BASE_PLPMTU;
  }

  /** When `probeSize` may next return a size (for the connection's timer); Infinity when never. */
  get deadline(): number {
    return this.started && this.inFlight === null ? this.nextProbeAt : Infinity;
  }

  onProbeSent(size: number): void {
    this.inFlight = size;
    this.probesSent++;
  }

  /**
   * A probe of `size` was acknowledged: the path carries it. Returns true when `current` grew.
   * Only the probe in flight counts: one sent before a restart (another path, a lower ceiling,
   * a black hole) proves nothing about the path now.
   */
  onProbeAcked(size: number): boolean {
    if (this.inFlight !== size) return false;
    this.inFlight = null;
    if (size <= this.current || size > this.ceiling) return false;
    this.current = size;
    return true;
  }

  /** A probe of `size` was declared lost: the path does not carry it, and the climb ends. */
  onProbeLost(size: number): void {
    this.probesLost++;
    if (this.inFlight !== size) return;
    this.inFlight = null;
    if (size > this.current) this.lostSinceStart = true;
  }

  /** The probe of `size` left the books without a verdict (a path change forgot what was in flight). */
  onProbeAbandoned(size: number): void {
    if (this.inFlight === size) this.inFlight = null;
  }

  /** A packet larger than BASE_PLPMTU (not a probe) was acknowledged. */
  onLargeAcked(): void {
    this.suspiciousLosses = 0;
  }

  /**
   * A loss event in which every lost packet was larger than BASE_PLPMTU. Returns true when this
   * declares a black hole: `current` is back at BASE_PLPMTU.
   */
  onLargeLoss(now: number): boolean {
    if (this.current <= BASE_PLPMTU) return false;
    if (++this.suspiciousLosses < BLACK_HOLE_THRESHOLD) return false;
    this.blackHoles++;
    // Losses without ICMP (or the kernel would be fragmenting instead): probes prove again.
    this.failed = this.current;
    this.lostSinceStart = false;
    this.current = BASE_PLPMTU;
    this.suspiciousLosses = 0;
    this.inFlight = null;
    this.idle = false;
    this.nextProbeAt = now + BLACK_HOLE_BACKOFF_MS;
    return true;
  }

  /** The next size of the climb: the smallest ladder step or the ceiling above `current`, below a black hole's size. */
  private nextCandidate(): number | null {
    if (this.lostSinceStart) return null;
    const limit = Math.min(this.failed - 1, this.ceiling);
    for (const step of LADDER) if (step > this.current && step < limit) return step;
    return limit > this.current ? limit : null;
  }
}
