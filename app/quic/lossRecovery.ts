/**
 * Loss detection and congestion control over the three packet number spaces (RFC 9002,
 * Appendix A): it records sent packets, processes ACK ranges, declares packets lost by packet
 * and time thresholds, runs the PTO timer and drives the NewReno controller. It decides *which*
 * packets are acknowledged or lost; the connection decides what that means for their frames.
 */
import { CongestionController, PERSISTENT_CONGESTION_THRESHOLD } from './congestionController.ts';
import type { PnRange } from './frame.ts';
import { APPLICATION, HANDSHAKE, INITIAL, type PacketSpace, type SentPacket, type SpaceId } from './packetSpace.ts';
import { QuicError } from './quicError.ts';
import { GRANULARITY, RttEstimator } from './rttEstimator.ts';

/** RFC 9002 §6.1.1: kPacketThreshold. */
const PACKET_THRESHOLD = 3;
/** RFC 9002 §6.1.2: kTimeThreshold. */
const TIME_THRESHOLD = 9 / 8;

/** What loss recovery needs to know about the connection around it. */
export interface RecoveryContext {
  readonly role: 'client' | 'server';
  handshakeConfirmed(): boolean;
  handshakeComplete(): boolean;
  /** A server that may not send more before the client's address is validated (RFC 9000 §8.1). */
  amplificationBlocked(): boolean;
  /** The peer's max_ack_delay in ms (RFC 9000 §18.2; 25 until known). */
  peerMaxAckDelay(): number;
}

export type TimeoutOutcome =
  { kind: 'lost'; space: PacketSpace; packets: SentPacket[] } | { kind: 'pto'; space: PacketSpace };

export class LossRecovery {
  readonly rtt = new RttEstimator();
  readonly cc: CongestionController;
  /** RFC 9002 §6.2.1: consecutive PTOs without an acknowledgment (exponential backoff). */
  ptoCount = 0;
  /** Bytes of the PMTU probe in flight (at most one at a time), counted apart for `dataAvailable`. */
  probeBytesInFlight = 0;
  /** When `onTimeout` must run (RFC 9002 A.8 loss_detection_timer); Infinity when disarmed. */
  timer = Infinity;
  private readonly spaces: readonly PacketSpace[];
  private readonly ctx: RecoveryContext;
  private now = 0;

  constructor(spaces: readonly PacketSpace[], maxDatagramSize: number, ctx: RecoveryContext) {
    this.spaces = spaces;
    this.cc = new CongestionController(maxDatagramSize);
    this.ctx = ctx;
  }

  /** RFC 9002 §6.2.1: smoothed_rtt + max(4*rttvar, kGranularity) (+ max_ack_delay for 1-RTT). */
  ptoDuration(id: SpaceId): number {
    return this.rtt.ptoBase() + (id === APPLICATION ? this.ctx.peerMaxAckDelay() : 0);
  }

  /** RFC 9002 A.5 OnPacketSent. Packets with neither frames to repair nor flight are not kept. */
  onPacketSent(space: PacketSpace, p: SentPacket, now: number): void {
    this.now = now;
    if (p.ackEliciting || p.frames.length > 0) space.sent.set(p.pn, p);
    // A PMTU probe is not charged to the pacer: a 64 KiB probe on loopback would otherwise hold
    // the next small packets back for as long as the pacer takes to earn 64 KiB again.
    if (p.inFlight) this.cc.onPacketSent(p.size, now, !p.mtuProbe);
    if (p.inFlight && p.mtuProbe) this.probeBytesInFlight += p.size;
    if (p.ackEliciting) {
      space.ackElicitingInFlight++;
      space.timeOfLastAckEliciting = now;
      this.setTimer(now);
    }
  }

  /**
   * RFC 9002 A.7 OnAckReceived. `ackDelay` is already decoded to ms. Returns the newly
   * acknowledged packets (ascending) and those the acknowledgment proves lost. Throws
   * PROTOCOL_VIOLATION for an acknowledgment of a packet never sent (RFC 9000 §13.1).
   */
  onAckReceived(
    space: PacketSpace,
    ranges: readonly PnRange[],
    ackDelay: number,
    now: number,
    frameType: number,
  ): { acked: SentPacket[]; lost: SentPacket[] } {
    this.now = now;
    const largest = ranges[0]![1];
    if (largest >= space.nextPn) throw new QuicError('PROTOCOL_VIOLATION', 'ACK for an unsent packet', frameType);
    const acked: SentPacket[] = [];
    // The sent map starts with the oldest unacknowledged packet: nothing below it can be newly acked.
    let oldest = Infinity;
    for (const k of space.sent.keys()) {
      oldest = k;
      break;
    }
    for (const [rangeLo, hi] of ranges) {
      if (hi < oldest) break;
      const lo = Math.max(rangeLo, oldest);
      if (hi - lo < space.sent.size) {
        for (let pn = lo; pn <= hi; pn++) {
          const p = space.sent.get(pn);
          if (p) acked.push(p);
        }
      } else {
        for (const p of space.sent.values()) if (p.pn >= lo && p.pn <= hi) acked.push(p);
      }
    }
    if (acked.length === 0) return { acked, lost: [] };
    acked.sort((a, b) => a.pn - b.pn);
    if (largest > space.largestAcked) space.largestAcked = largest;
    const largestPacket = acked[acked.length - 1]!;
    // RFC 9002 §5.1: an RTT sample when the largest acknowledged is newly acknowledged and at
    // least one newly acknowledged packet was ack-eliciting.
    if (largestPacket.pn === largest && acked.some((p) => p.ackEliciting)) {
      this.rtt.update(
        Math.max(now - largestPacket.timeSent, 0.001),
        space.id === APPLICATION ? ackDelay : 0,
        this.ctx.handshakeConfirmed(),
        this.ctx.peerMaxAckDelay(),
      );
    }
    // RFC 9002 §7.8: an application-limited sender does not grow its window.
    const appLimited = this.cc.bytesInFlight < this.cc.congestionWindow / 2;
    for (const p of acked) {
      space.sent.delete(p.pn);
      if (p.ackEliciting) space.ackElicitingInFlight--;
      // A PMTU probe carries no application data: its acknowledgment does not grow the window.
      if (p.inFlight) this.cc.onPacketAcked(p.size, p.timeSent, appLimited || p.mtuProbe);
      if (p.inFlight && p.mtuProbe) this.probeGone(p.size);
    }
    const lost = this.detectLost(space, now);
    // RFC 9002 §6.2.1: the PTO backoff resets on an acknowledgment, except that a client does
    // not reset it on Initial acknowledgments before it knows the server validated its address.
    if (this.ctx.role === 'server' || this.ctx.handshakeComplete() || space.id !== INITIAL) this.ptoCount = 0;
    this.setTimer(now);
    return { acked, lost };
  }

  /** RFC 9002 A.10 DetectAndRemoveLostPackets, with the congestion response of A.10/B.8. */
  detectLost(space: PacketSpace, now: number): SentPacket[] {
    space.lossTime = Infinity;
    if (space.largestAcked < 0) return [];
    const lossDelay = Math.max(TIME_THRESHOLD * Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt), GRANULARITY);
    const lost: SentPacket[] = [];
    for (const p of space.sent.values()) {
      if (p.pn > space.largestAcked) break;
      // One expression for both the test and the timer, so float rounding can never arm a timer
      // for a time that the test then does not consider reached.
      const lostAt = p.timeSent + lossDelay;
      if (lostAt <= now || space.largestAcked >= p.pn + PACKET_THRESHOLD) lost.push(p);
      else space.lossTime = Math.min(space.lossTime, lostAt);
    }
    if (lost.length === 0) return lost;
    let lastLostTime = -Infinity;
    for (const p of lost) {
      space.sent.delete(p.pn);
      if (p.ackEliciting) space.ackElicitingInFlight--;
      if (p.inFlight) {
        this.cc.onPacketDiscarded(p.size);
        if (p.mtuProbe) this.probeGone(p.size);
        // RFC 9000 §14.4: a lost PMTU probe is no sign of congestion.
        if (!p.mtuProbe) lastLostTime = Math.max(lastLostTime, p.timeSent);
      }
    }
    if (lastLostTime > -Infinity) this.cc.onCongestionEvent(lastLostTime, now);
    if (this.isPersistentCongestion(lost)) this.cc.onPersistentCongestion();
    return lost;
  }

  /**
   * RFC 9002 §7.6.2: persistent congestion when ack-eliciting packets spanning more than
   * (smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay) * kPersistentCongestionThreshold
   * are all lost, with nothing acknowledged in between (here: consecutive packet numbers, as
   * acknowledged packets leave the record) and an RTT sample taken before.
   */
  private isPersistentCongestion(lost: SentPacket[]): boolean {
    if (!this.rtt.hasSample) return false;
    const eliciting = lost.filter((p) => p.ackEliciting && !p.mtuProbe);
    if (eliciting.length < 2) return false;
    for (let i = 1; i < lost.length; i++) if (lost[i]!.pn !== lost[i - 1]!.pn + 1) return false;
    const duration =
      (this.rtt.smoothedRtt + Math.max(4 * this.rtt.rttVar, GRANULARITY) + this.ctx.peerMaxAckDelay()) *
      PERSISTENT_CONGESTION_THRESHOLD;
    return eliciting[eliciting.length - 1]!.timeSent - eliciting[0]!.timeSent > duration;
  }

  /** RFC 9002 A.8 SetLossDetectionTimer. */
  setTimer(now: number): void {
    this.now = now;
    let earliestLoss = Infinity;
    for (const s of this.spaces) earliestLoss = Math.min(earliestLoss, s.lossTime);
    if (earliestLoss !== Infinity) {
      this.timer = earliestLoss;
      return;
    }
    // A.8: a server blocked by the anti-amplification limit arms no PTO.
    if (this.ctx.role === 'server' && this.ctx.amplificationBlocked()) {
      this.timer = Infinity;
      return;
    }
    const inFlight = this.spaces.some((s) => s.ackElicitingInFlight > 0);
    // A.8: a client that is not sure the server validated its address keeps a PTO armed (anti-deadlock).
    if (!inFlight && (this.ctx.role === 'server' || this.ctx.handshakeConfirmed() || this.ctx.handshakeComplete())) {
      this.timer = Infinity;
      return;
    }
    this.timer = this.ptoTimeAndSpace().time;
  }

  /** RFC 9002 A.8 GetPtoTimeAndSpace. */
  private ptoTimeAndSpace(): { time: number; space: SpaceId } {
    const backoff = 2 ** this.ptoCount;
    if (!this.spaces.some((s) => s.ackElicitingInFlight > 0)) {
      // The client's anti-deadlock PTO: Handshake if it has the keys, else Initial.
      const space = this.spaces[HANDSHAKE]!.writeKeys ? HANDSHAKE : INITIAL;
      return { time: this.now + this.rtt.ptoBase() * backoff, space };
    }
    let best = { time: Infinity, space: INITIAL as SpaceId };
    for (const s of this.spaces) {
      if (s.ackElicitingInFlight === 0) continue;
      // A.8: skip Application Data until the handshake is confirmed.
      if (s.id === APPLICATION && !this.ctx.handshakeConfirmed()) continue;
      const t = s.timeOfLastAckEliciting + this.ptoDuration(s.id) * backoff;
      if (t < best.time) best = { time: t, space: s.id };
    }
    const app = this.spaces[APPLICATION]!;
    if (best.time === Infinity && app.ackElicitingInFlight > 0) {
      best = { time: app.timeOfLastAckEliciting + this.ptoDuration(APPLICATION) * backoff, space: APPLICATION };
    }
    return best;
  }

  /** RFC 9002 A.9 OnLossDetectionTimeout: either time-threshold losses or a PTO in one space. */
  onTimeout(now: number): TimeoutOutcome {
    this.now = now;
    let earliest: PacketSpace | null = null;
    for (const s of this.spaces)
      if (s.lossTime !== Infinity && (!earliest || s.lossTime < earliest.lossTime)) earliest = s;
    if (earliest) {
      const packets = this.detectLost(earliest, now);
      this.setTimer(now);
      return { kind: 'lost', space: earliest, packets };
    }
    const space = this.spaces[this.ptoTimeAndSpace().space]!;
    // RFC 9002 §6.2.4: one or two ack-eliciting probe packets.
    space.probes = 2;
    this.ptoCount++;
    this.setTimer(now);
    return { kind: 'pto', space };
  }

  /**
   * Forgets every packet of a space without a congestion signal: keys discarded (RFC 9002
   * §6.4), a Retry (RFC 9000 §17.2.5.3) or a path change. Returns them so their frames can be
   * repaired where that makes sense.
   */
  forget(space: PacketSpace, now: number): SentPacket[] {
    const packets = [...space.sent.values()];
    for (const p of packets)
      if (p.inFlight) {
        this.cc.onPacketDiscarded(p.size);
        if (p.mtuProbe) this.probeGone(p.size);
      }
    space.sent.clear();
    space.ackElicitingInFlight = 0;
    space.lossTime = Infinity;
    this.ptoCount = 0;
    this.setTimer(now);
    return packets;
  }

  /**
   * What the congestion window leaves for packets with data: the window minus what is in flight,
   * not counting the PMTU probe. A probe may take the whole window when it is sent (its size is
   * bounded by it), and loopback's probes reach 64 KiB; counted against data it held every stanza
   * back for a round trip per probe while the search went on. So the probe rides on top of the
   * window: data in flight stays within the window, and the one probe is the only overshoot.
   */
  get dataAvailable(): number {
    return Math.max(0, this.cc.congestionWindow - (this.cc.bytesInFlight - this.probeBytesInFlight));
  }

  private probeGone(size: number): void {
    this.probeBytesInFlight = Math.max(0, this.probeBytesInFlight - size);
  }

  /** RFC 9000 §9.4: a new path starts with fresh RTT and congestion state. */
  resetPath(): void {
    this.cc.reset();
    this.rtt.reset();
    this.probeBytesInFlight = 0;
  }
}
