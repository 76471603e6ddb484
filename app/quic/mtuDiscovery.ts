/**
 * Datagram Packetization Layer PMTU Discovery for one path (RFC 9000 §14.3, RFC 8899), sans-IO:
 * the connection asks which probe to send, reports what became of it, and uses `current` as its
 * maximum datagram size.
 *
 * Every path starts at BASE_PLPMTU (1200, which QUIC requires every path to carry). The first probe
 * tries the ceiling (the local interface's MTU, capped by the peer's max_udp_payload_size): on
 * loopback and on a plain Ethernet or Wi-Fi path that one probe settles it. When it is lost, a
 * binary search between the last size that worked and the smallest that did not narrows the gap
 * to SEARCH_DONE bytes.
 *
 * Deviation from RFC 8899 (MAX_PROBES = 3): a size fails after ONE lost probe. Node cannot set
 * IP_PMTUDISC_DO, and Linux's default (IP_PMTUDISC_WANT) sets DF only on datagrams within the path
 * MTU it knows: after a router's ICMP "fragmentation needed", a second probe of the same size would
 * be fragmented by our own kernel and arrive, proving nothing (RFC 9000 §14 forbids IP
 * fragmentation). A probe lost to plain bad luck costs a slightly smaller size until the raise
 * timer searches again. What this cannot prevent: once the kernel has learned a smaller path MTU
 * from ICMP, a probe between that MTU and the one that failed is fragmented locally and "works",
 * so on such a path the size settles up to one search step too high and those datagrams travel
 * as IP fragments. Knowing better needs getsockopt(IP_MTU), which Node does not offer.
 *
 * Black holes (RFC 8899 §4.3): when the path stops carrying our size (a new tunnel, a router
 * change), packets above BASE_PLPMTU are lost while small ones (acknowledgments) still pass. After
 * BLACK_HOLE_THRESHOLD loss events made only of large packets, with no large packet acknowledged in
 * between, we drop back to BASE_PLPMTU and search again below the size that failed.
 */

/** RFC 9000 §14: every QUIC path carries 1200-byte UDP payloads. */
export const BASE_PLPMTU = 1200;
/** The search stops when the largest working and smallest failing sizes are this close. */
export const SEARCH_DONE = 20;
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
  /** The smallest size known not to work (ceiling + 1 while none has failed). */
  private failed = BASE_PLPMTU + 1;
  private inFlight: number | null = null;
  /** When the next probe may go; Infinity while the search is idle. */
  private nextProbeAt = Infinity;
  private started = false;
  /** The search finished; at `nextProbeAt` it starts over from the ceiling (the raise timer). */
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
      // RFC 8899 §5.1.1: after PMTU_RAISE_TIMER, try the ceiling again.
      this.idle = false;
      this.failed = this.ceiling + 1;
    }
    const size = this.nextCandidate();
    if (size === null) {
      this.idle = true;
      this.nextProbeAt = this.current < this.ceiling ? now + RAISE_INTERVAL_MS : Infinity;
      return null;
    }
    if (size <= room) return size;
    const step = Math.floor(room);
    return step - this.current >= SEARCH_DONE ? step : null;
  }

  /** When `probeSize` may next return a size (for the connection's timer); Infinity when never. */
  get deadline(): number {
    return this.started && this.inFlight === null ? this.nextProbeAt : Infinity;
  }

  onProbeSent(size: number): void {
    this.inFlight = size;
    this.probesSent++;
  }

  /** A probe of `size` was acknowledged: the path carries it. Returns true when `current` grew. */
  onProbeAcked(size: number): boolean {
    if (this.inFlight === size) this.inFlight = null;
    if (size <= this.current) return false;
    this.current = size;
    if (this.failed <= size) this.failed = this.ceiling + 1;
    return true;
  }

  /** A probe of `size` was declared lost: the path does not carry it (see the deviation above). */
  onProbeLost(size: number): void {
    if (this.inFlight === size) this.inFlight = null;
    this.probesLost++;
    if (size > this.current && size < this.failed) this.failed = size;
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
    this.failed = this.current;
    this.current = BASE_PLPMTU;
    this.suspiciousLosses = 0;
    this.inFlight = null;
    this.idle = false;
    this.nextProbeAt = now + BLACK_HOLE_BACKOFF_MS;
    return true;
  }

  private nextCandidate(): number | null {
    const hi = Math.min(this.failed - 1, this.ceiling);
    if (hi - this.current < SEARCH_DONE && !(hi === this.ceiling && hi > this.current)) return null;
    // The ceiling first; then halve the gap.
    if (this.failed > this.ceiling) return this.ceiling;
    return Math.floor((this.current + this.failed) / 2);
  }
}
