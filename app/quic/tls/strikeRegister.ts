/**
 * The server's anti-replay rule for 0-RTT (RFC 8446bis §8): a ClientHello's early data is accepted
 * only when it is fresh (§8.3) and its ticket has not been used for 0-RTT within the freshness
 * window (§8.1 single-use tickets, kept only as long as §8.2 needs: "record ClientHellos within a
 * given time window and use the "obfuscated_ticket_age" to ensure that tickets aren't reused
 * outside that window"). In memory and bounded: when full, 0-RTT is refused (the handshake goes
 * on in 1-RTT), never accepted unrecorded. One register serves every connection of a server, and
 * only that server: a replay sent to another process holding the same ticket key is not seen.
 */
import { createHash } from 'node:crypto';

/** §8.3: "windows on the order of ten seconds to account for errors in clocks and variations in measurements". */
export const DEFAULT_FRESHNESS_WINDOW_MS = 10_000;
export const DEFAULT_STRIKE_CAPACITY = 10_000;

export class StrikeRegister {
  /** Allowed difference between the client's ticket age and ours (both ways), ms. */
  readonly windowMs: number;
  private readonly capacity: number;
  /** Ticket identity digest -> the time (ms) after which a replay would fail the freshness check anyway. */
  private readonly seen = new Map<string, number>();

  constructor(opts: { windowMs?: number; capacity?: number } = {}) {
    this.windowMs = opts.windowMs ?? DEFAULT_FRESHNESS_WINDOW_MS;
    this.capacity = opts.capacity ?? DEFAULT_STRIKE_CAPACITY;
  }

  /**
   * §8.3 freshness: "expected_arrival_time = adjusted_creation_time + clients_ticket_age" ... "if
   * they differ by more than a certain amount, 0-RTT is rejected". `clientAgeMs` is the client's
   * view (obfuscated_ticket_age - ticket_age_add), `serverAgeMs` now minus the ticket's issue time.
   */
  fresh(clientAgeMs: number, serverAgeMs: number): boolean {
    return Math.abs(serverAgeMs - clientAgeMs) <= this.windowMs;
  }

  /**
   * Records the ticket identity of a fresh ClientHello and returns true the first time; false for
   * a ticket already used for 0-RTT while a replay of it could still pass `fresh`, or when the
   * register is full (§8.2: "If no matching ClientHello is found, then it accepts 0-RTT and then
   * stores the ClientHello for as long as the expected_arrival_time is inside the window").
   * `now` is the server's wall clock in ms.
   */
  admit(ticketIdentity: Uint8Array, now: number): boolean {
    this.prune(now);
    const key = createHash('sha256').update(ticketIdentity).digest('base64');
    const until = this.seen.get(key);
    if (until !== undefined && until >= now) return false;
    if (this.seen.size >= this.capacity) return false;
    // A replay arriving later than this fails the freshness check: its claimed age is fixed while
    // ours grows (twice the window covers a client age off by the window the other way).
    this.seen.delete(key); // re-inserted last: the map stays in expiry order
    this.seen.set(key, now + 2 * this.windowMs);
    return true;
  }

  /** Entries held (tests). */
  get size(): number {
    return this.seen.size;
  }

  /** Drops expired entries; insertion order is expiry order (a fixed lifetime from `now`). */
  private prune(now: number): void {
    for (const [key, until] of this.seen) {
      if (until >= now) return;
      this.seen.delete(key);
    }
  }
}
