/**
 * The deadlines of one connection as one table, like quinn-proto's `TimerTable`: one slot per
 * kind of timer, each a time in milliseconds or unarmed. The connection's next timeout is the
 * earliest armed slot; `handleTimeout` tests the slots in `TIMERS` order and acts on each that is
 * due. The `mtuProbe` slot only wakes the driver: a probe that is due goes out with the next
 * `pollTransmit`. The `pacing` slot is the one deadline kept in the table itself.
 *
 * The table decides nothing: it holds times. Deadlines that a piece of the connection computes
 * from its own state (loss detection in `LossRecovery`, ACK delay per `PacketSpace`, the previous
 * read keys in `KeyUpdate`, path validation and the MTU raise in `PathState`, the idle timeout and
 * keep-alive in `IdleTimer`, the draining period in `CloseState`) stay owned by that piece; the
 * connection copies them into their slots before it reads the table. Obligations of the caller (`QuicConnection`): refresh those slots before
 * `next`/`isExpired`, and after handling a timer that can move another one (a failed path
 * validation moves loss detection), refresh that one before testing it.
 */

/** The kinds of timer, in the order `handleTimeout` handles them. */
export const TIMERS = [
  /** RFC 9000 §10.2: the end of the closing or draining period. */
  'close',
  /** RFC 9000 §10.1: the idle timeout. */
  'idle',
  /** RFC 9000 §13.2.1: the delayed ACK of each packet number space. */
  'ackInitial',
  'ackHandshake',
  'ackApplication',
  /** RFC 9002 §7.7: the pacer lets the next packet go. */
  'pacing',
  /** RFC 9001 §6.5: the previous 1-RTT read keys are dropped. */
  'keyDiscard',
  /** Our keep-alive PING (the option `keepAliveInterval`). */
  'keepAlive',
  /** RFC 9000 §8.2.4: the path validation attempt times out. */
  'pathValidation',
  /** RFC 8899: the next path MTU probe is due. */
  'mtuProbe',
  /** RFC 9002 §6.1, §6.2: time-threshold loss detection or the probe timeout (PTO). */
  'lossDetection',
] as const;

export type Timer = (typeof TIMERS)[number];

const INDEX = Object.fromEntries(TIMERS.map((t, i) => [t, i])) as Record<Timer, number>;

export class TimerTable {
  /** One slot per timer in `TIMERS` order; Infinity is unarmed. */
  private readonly slots = new Float64Array(TIMERS.length).fill(Infinity);

  /** Arms `timer` for `at` (Infinity disarms it). */
  set(timer: Timer, at: number): void {
    this.slots[INDEX[timer]] = at;
  }

  /** Disarms `timer`. */
  clear(timer: Timer): void {
    this.slots[INDEX[timer]] = Infinity;
  }

  /** When `timer` fires; Infinity when it is not armed. */
  get(timer: Timer): number {
    return this.slots[INDEX[timer]]!;
  }

  /** Whether `timer` is armed and due at `now`. */
  isExpired(timer: Timer, now: number): boolean {
    return now >= this.slots[INDEX[timer]]!;
  }

  /** The earliest armed deadline, or undefined when no timer is armed. */
  next(): number | undefined {
    let t = Infinity;
    for (const at of this.slots) if (at < t) t = at;
    return t === Infinity ? undefined : t;
  }

  /** The timers due at `now`, in `TIMERS` order. */
  expired(now: number): Timer[] {
    return TIMERS.filter((t) => this.isExpired(t, now));
  }
}

/** The delayed-ACK timer of each packet number space, indexed by `SpaceId`. */
export const ACK_TIMERS = ['ackInitial', 'ackHandshake', 'ackApplication'] as const satisfies readonly Timer[];
