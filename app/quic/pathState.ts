/**
 * The network path a connection uses (RFC 9000 §8, §9, §14): the peer's address, whether it is
 * validated, the anti-amplification credit before it is (bytes received and sent on the path),
 * path validation (our PATH_CHALLENGE, the PATH_RESPONSEs we owe), and the path's datagram size
 * with its MTU discovery (`MtuDiscovery`, owned here; one per path, restarted on a new path).
 *
 * RTT and congestion state are not here: `LossRecovery` owns them for the connection, and the
 * connection resets them (`LossRecovery.resetPath`) when a move returns `addressChanged`.
 *
 * Obligations of the caller (`QuicConnection`):
 * - count every datagram received (`onDatagramReceived`) and every datagram sent on the path
 *   (`onSent`, `onMtuProbeSent`); send nothing beyond `amplificationCredit()`;
 * - route PATH_CHALLENGE/PATH_RESPONSE frames to `onChallenge`/`onResponse`, a lost
 *   PATH_CHALLENGE to `onChallengeLost`, and let `writeFrames` add the path's frames to 1-RTT
 *   packets (then expand the datagram when `takePadForPath()` says so);
 * - send a PATH_RESPONSE owed to another address (`takeForeignResponse`) in a datagram of its
 *   own of at most the `maxLength` it allows, and count it with `onSentOffPath`;
 * - feed acknowledged and lost 1-RTT packets to `onPacketAcked` / `onPacketsLost`;
 * - include `validationDeadline(pto)` and `mtuDeadline` in its timeout and call `onTimeout`.
 * `path-validated` and `path-mtu` events go to the `events` queue given at construction; the
 * datagram size is reported to `onDatagramSize` whenever it changes.
 */
import { randomBytes } from 'node:crypto';
import type { ByteWriter } from './byteWriter.ts';
import { equalBytes } from './equalBytes.ts';
import { encodeFrame } from './frame.ts';
import { BASE_PLPMTU, MtuDiscovery } from './mtuDiscovery.ts';
import type { SentFrame, SentPacket } from './packetSpace.ts';
import type { QuicEvent } from './quicEvent.ts';
import { sameAddress, type SocketAddress } from './socketAddress.ts';

/** RFC 9000 §14.1: every path starts at the smallest datagram size QUIC requires. */
export const MIN_INITIAL_DATAGRAM = BASE_PLPMTU;

/**
 * Addresses other than the path's whose anti-amplification counters (and the one PATH_RESPONSE
 * owed to each) are kept; a new one evicts the oldest. Each datagram counts towards its own
 * address only, so forgetting an address never lets more than 3x of what arrived leave.
 */
const MAX_OTHER_PATHS = 4;

/** An address that sent us PATH_CHALLENGE without being the path's (RFC 9000 §8.2.2, §9.1 probing). */
interface OtherPath {
  to: SocketAddress;
  received: number;
  sent: number;
  /** The PATH_RESPONSE owed there: one per path, echoing the latest challenge. */
  response: Uint8Array | null;
}

/** What a failed path validation leads to (RFC 9000 §9.3.2). */
export type ValidationFailure =
  /** No validated address to return to: the connection MUST close silently. */
  | { kind: 'no-fallback'; failed: SocketAddress }
  /** Back on the last validated address; `addressChanged` when more than the port differs. */
  | { kind: 'reverted'; to: SocketAddress; addressChanged: boolean };

export interface PathOptions {
  remote: SocketAddress;
  /** Whether the peer's address is validated from the start (a client's server, a Retry token). */
  validated: boolean;
  /** The upper bound for path MTU discovery (see `setCeiling`). */
  ceiling: number;
  events: QuicEvent[];
  /** The datagram size in use changed (congestion control and stats follow it). */
  onDatagramSize: (size: number) => void;
}

export class PathState {
  // Addresses and anti-amplification (RFC 9000 §8.1).
  private remoteAddress: SocketAddress;
  private addressValidated: boolean;
  /** RFC 9000 §9.3.2: where to go back to when the validation of a new peer address fails. */
  private lastValidatedRemote: SocketAddress | null = null;
  private bytesReceivedOnPath = 0;
  private bytesSentOnPath = 0;
  /** Size of the datagram being processed (amplification credit on a path change). */
  private datagramLength = 0;
  /** Whether that datagram was already counted towards an address other than the path's. */
  private datagramCounted = false;
  /** Other addresses that probed us, oldest first (at most MAX_OTHER_PATHS). */
  private readonly others: OtherPath[] = [];

  // Path validation (RFC 9000 §8.2).
  private challenge: { data: Uint8Array; to: SocketAddress; sentAt: number; tries: number; pending: boolean } | null =
    null;
  /** The PATH_RESPONSE owed on the path: one, echoing the latest challenge (RFC 9000 §8.2.2). */
  private pathResponse: Uint8Array | null = null;
  /** The datagram being built carries PATH_CHALLENGE/PATH_RESPONSE and must be expanded. */
  private padForPath = false;

  // Path MTU discovery (RFC 9000 §14.3, RFC 8899): the search itself is in MtuDiscovery.
  /** The largest UDP payload we send now: 1200 until path MTU discovery proves more. */
  private datagramSize = MIN_INITIAL_DATAGRAM;
  /** The upper bound for path MTU discovery (the option; see `setCeiling`). */
  private datagramCeiling: number;
  private readonly mtu = new MtuDiscovery();
  /** What the last `path-mtu` event said. */
  private mtuReported = { size: BASE_PLPMTU, searching: false };

  private readonly events: QuicEvent[];
  private readonly onDatagramSize: (size: number) => void;

  constructor(opts: PathOptions) {
    this.remoteAddress = opts.remote;
    this.addressValidated = opts.validated;
    this.datagramCeiling = Math.max(MIN_INITIAL_DATAGRAM, opts.ceiling);
    this.events = opts.events;
    this.onDatagramSize = opts.onDatagramSize;
  }

  /** The peer address we send to. */
  get remote(): SocketAddress {
    return this.remoteAddress;
  }

  get validated(): boolean {
    return this.addressValidated;
  }

  /** The largest UDP payload we send now. */
  get maxDatagramSize(): number {
    return this.datagramSize;
  }

  // ---------------------------------------------------------------------------------------------
  // Anti-amplification (RFC 9000 §8.1)

  /**
   * A datagram of `length` bytes arrived from `from`. Returns whether it came from the path's
   * address (only then does it add to the amplification credit).
   */
  onDatagramReceived(length: number, from: SocketAddress): boolean {
    this.datagramLength = length;
    this.datagramCounted = false;
    if (!sameAddress(from, this.remoteAddress)) {
      const other = this.other(from);
      if (other) {
        other.received += length;
        this.datagramCounted = true;
      }
      return false;
    }
    this.bytesReceivedOnPath += length;
    return true;
  }

  /** `length` bytes were sent to the path's address. */
  onSent(length: number): void {
    this.bytesSentOnPath += length;
  }

  /** The peer proved it owns the address (RFC 9000 §8.1: e.g. a Handshake packet from the client). */
  markValidated(): void {
    this.addressValidated = true;
  }

  amplificationCredit(): number {
    // RFC 9000 §8.1: before validating the client's address, a server MUST NOT send more than three times what it received.
    if (this.addressValidated) return Infinity;
    return 3 * this.bytesReceivedOnPath - this.bytesSentOnPath;
  }

  /** Whether the anti-amplification limit allows nothing more right now. */
  get amplificationBlocked(): boolean {
    return !this.addressValidated && this.amplificationCredit() <= 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Migration and path validation (RFC 9000 §8.2, §9)

  /**
   * The peer moved to `from` (RFC 9000 §9.3). Returns whether more than the port changed: then
   * the caller resets congestion control and the RTT estimate (§9.4) and restarts MTU discovery.
   */
  moveTo(from: SocketAddress): boolean {
    const old = this.remoteAddress;
    if (this.addressValidated) this.lastValidatedRemote = old;
    this.remoteAddress = from;
    // The datagram that moved the path counts towards the new path's amplification credit, and
    // what the address sent and was sent while it only probed counts too.
    const idx = this.others.findIndex((o) => sameAddress(o.to, from));
    const other = idx >= 0 ? this.others.splice(idx, 1)[0]! : null;
    this.bytesReceivedOnPath = (other?.received ?? 0) + (this.datagramCounted ? 0 : this.datagramLength);
    this.bytesSentOnPath = other?.sent ?? 0;
    // PATH_RESPONSE is never retransmitted (§13.3): one owed to the old address is dropped.
    this.pathResponse = other?.response ?? null;
    this.addressValidated = false;
    return old.address !== from.address;
  }

  /** Starts validating the path to `to` with a fresh PATH_CHALLENGE (sent by `writeFrames`). */
  startValidation(to: SocketAddress, now: number): void {
    this.challenge = { data: randomBytes(8), to, sentAt: now, tries: 0, pending: true };
  }

  /** Whether a PATH_CHALLENGE of ours is unanswered. */
  get validating(): boolean {
    return this.challenge !== null;
  }

  /**
   * A PATH_CHALLENGE from `from`, in the datagram last reported to `onDatagramReceived`.
   * RFC 9000 §8.2.2: "A PATH_RESPONSE frame MUST be sent on the network path where the
   * PATH_CHALLENGE frame was received", and "The peer is expected to send more PATH_CHALLENGE
   * frames as necessary to evoke additional PATH_RESPONSE frames": one response per path is owed
   * at a time, echoing the latest challenge, so several challenges in one packet (or a flood of
   * them) cost one response.
   */
  onChallenge(data: Uint8Array, from: SocketAddress): void {
    if (sameAddress(from, this.remoteAddress)) {
      this.pathResponse = data.slice();
      return;
    }
    let other = this.other(from);
    if (!other) {
      if (this.others.length >= MAX_OTHER_PATHS) this.others.shift();
      other = { to: from, received: 0, sent: 0, response: null };
      this.others.push(other);
    }
    if (!this.datagramCounted) {
      other.received += this.datagramLength;
      this.datagramCounted = true;
    }
    other.response = data.slice();
  }

  private other(address: SocketAddress): OtherPath | undefined {
    return this.others.find((o) => sameAddress(o.to, address));
  }

  /** A PATH_RESPONSE: validates the path when it echoes our challenge. */
  onResponse(data: Uint8Array): void {
    if (this.challenge && equalBytes(this.challenge.data, data)) {
      // RFC 9000 §8.2.3: path validation succeeds when a PATH_RESPONSE echoes the challenge data.
      const to = this.challenge.to;
      this.challenge = null;
      if (sameAddress(to, this.remoteAddress)) this.addressValidated = true;
      this.events.push({ type: 'path-validated', remote: to });
    }
  }

  /** The packet carrying our PATH_CHALLENGE was lost: send it again. */
  onChallengeLost(): void {
    if (this.challenge) this.challenge.pending = true;
  }

  /** When the current attempt at validation times out (Infinity when none is running). */
  validationDeadline(pto: number): number {
    return this.challenge ? this.challenge.sentAt + 3 * pto : Infinity;
  }

  /**
   * Fires the validation timer. Returns what a failed validation leads to, or undefined when
   * nothing failed or the failure concerns no path in use.
   */
  onTimeout(now: number, pto: number): ValidationFailure | undefined {
    if (!this.challenge || now < this.challenge.sentAt + 3 * pto) return undefined;
    // RFC 9000 §8.2.4: give up after a few attempts. An attempt the anti-amplification
    // limit kept from leaving counts too: nothing else would end it.
    if (++this.challenge.tries >= 3) return this.onValidationFailed();
    this.challenge.pending = true;
    this.challenge.sentAt = now;
    return undefined;
  }

  /**
   * RFC 9000 §9.3.2: "an endpoint MUST revert to using the last validated peer address when
   * validation of a new peer address fails" (a spurious migration: someone replayed a packet
   * from another address); without one it "MUST close the connection silently".
   */
  private onValidationFailed(): ValidationFailure | undefined {
    const failed = this.challenge!.to;
    this.challenge = null;
    if (!sameAddress(failed, this.remoteAddress) || this.addressValidated) return undefined;
    // A client's own path is validated by definition (it only probes a new local address).
    const back = this.lastValidatedRemote;
    if (!back) return { kind: 'no-fallback', failed };
    this.lastValidatedRemote = null;
    this.remoteAddress = back;
    this.addressValidated = true;
    this.bytesReceivedOnPath = 0;
    this.bytesSentOnPath = 0;
    this.pathResponse = null;
    return { kind: 'reverted', to: back, addressChanged: back.address !== failed.address };
  }

  /**
   * A PATH_RESPONSE owed to another address than the path's: it goes in a datagram of its own of
   * at least `minLength` bytes (the smallest packet that carries it) and at most `maxLength`.
   * RFC 9000 §8: "an endpoint MUST limit the amount of data it sends to the unvalidated address to
   * three times the amount of data received from that address"; §8.2.2: expanded to 1200 bytes,
   * but "an endpoint MUST NOT expand the datagram containing the PATH_RESPONSE if the resulting
   * data exceeds the anti-amplification limit". A response the credit cannot carry stays owed
   * until more arrives from that address. Count what is sent with `onSentOffPath`.
   */
  takeForeignResponse(minLength: number): { data: Uint8Array; to: SocketAddress; maxLength: number } | undefined {
    for (const o of this.others) {
      const credit = 3 * o.received - o.sent;
      if (!o.response || credit < minLength) continue;
      const data = o.response;
      o.response = null;
      return { data, to: o.to, maxLength: Math.min(MIN_INITIAL_DATAGRAM, credit) };
    }
    return undefined;
  }

  /** `length` bytes were sent to `to`, an address other than the path's. */
  onSentOffPath(to: SocketAddress, length: number): void {
    const other = this.other(to);
    if (other) other.sent += length;
  }

  /** Writes the PATH_RESPONSE and PATH_CHALLENGE due on this path within `room` bytes of `w`. */
  writeFrames(w: ByteWriter, sent: SentFrame[], room: number, now: number): void {
    const fits = (n: number): boolean => w.offset + n <= room;
    if (this.pathResponse && fits(9)) {
      encodeFrame(w, { type: 'path_response', data: this.pathResponse });
      this.pathResponse = null;
      this.padForPath = true;
    }
    if (this.challenge?.pending && sameAddress(this.challenge.to, this.remoteAddress) && fits(9)) {
      encodeFrame(w, { type: 'path_challenge', data: this.challenge.data });
      sent.push({ t: 'path_challenge' });
      this.padForPath = true;
      this.challenge.pending = false;
      this.challenge.sentAt = now;
    }
  }

  /** Whether the datagram just built carries PATH_CHALLENGE/PATH_RESPONSE (and resets that). */
  takePadForPath(): boolean {
    const pad = this.padForPath;
    this.padForPath = false;
    return pad;
  }

  // ---------------------------------------------------------------------------------------------
  // Path MTU discovery (RFC 9000 §14.3, RFC 8899)

  /**
   * The driver learned a new upper bound for this path's datagrams. Returns whether it changed:
   * then discovery starts over below it (`restartMtuDiscovery`) once the handshake is confirmed.
   */
  setCeiling(ceiling: number): boolean {
    const next = Math.max(MIN_INITIAL_DATAGRAM, Math.floor(ceiling));
    if (next === this.datagramCeiling) return false;
    this.datagramCeiling = next;
    return true;
  }

  /** A new path (or a new bound): back to 1200 bytes until probes prove more. */
  restartMtuDiscovery(peerMaxUdpPayload: number, now: number): void {
    // RFC 9000 §14.3: the peer's max_udp_payload_size bounds what we may send.
    this.mtu.start(Math.min(this.datagramCeiling, peerMaxUdpPayload), now);
    this.setDatagramSize(MIN_INITIAL_DATAGRAM);
  }

  /** Whether path MTU discovery is still searching on this path. */
  get mtuSearching(): boolean {
    return this.mtu.searching;
  }

  /** When the next probe is due (may be in the past: then it goes with the next transmit). */
  get mtuDeadline(): number {
    return this.mtu.deadline;
  }

  get mtuProbesSent(): number {
    return this.mtu.probesSent;
  }

  get mtuProbesLost(): number {
    return this.mtu.probesLost;
  }

  get mtuBlackHoles(): number {
    return this.mtu.blackHoles;
  }

  /**
   * The size of the PMTU probe to send now, or null. `cwndAvailable` is what congestion control
   * allows; the amplification credit bounds it too.
   */
  mtuProbeSize(now: number, cwndAvailable: number): number | null {
    // Not while the path itself is being validated: that answer comes first.
    if (this.challenge) return null;
    const size = this.mtu.probeSize(now, Math.min(cwndAvailable, this.amplificationCredit()));
    // probeSize is where the search notices it is over.
    if (size === null) this.reportMtu();
    return size;
  }

  /** A probe of `size` bytes (its datagram `length` bytes) was sent. */
  onMtuProbeSent(size: number, length: number): void {
    this.mtu.onProbeSent(size);
    this.bytesSentOnPath += length;
  }

  /** A 1-RTT packet was acknowledged. */
  onPacketAcked(p: SentPacket): void {
    if (p.mtuProbe) {
      if (this.mtu.onProbeAcked(p.size)) this.setDatagramSize(this.mtu.current);
    } else if (p.size > MIN_INITIAL_DATAGRAM) this.mtu.onLargeAcked();
  }

  /** A probe was forgotten unacknowledged (it would otherwise hold discovery forever: one probe at a time). */
  onProbeAbandoned(size: number): void {
    this.mtu.onProbeAbandoned(size);
  }

  /** Loss of packets that were not probes: only-large losses may mean the path shrank (a black hole). */
  onPacketsLost(lost: SentPacket[], now: number): void {
    let large = false;
    let small = false;
    for (const p of lost) {
      if (p.mtuProbe) this.mtu.onProbeLost(p.size);
      else if (p.size <= MIN_INITIAL_DATAGRAM) small = true;
      else large = true;
    }
    if (large && !small && this.mtu.onLargeLoss(now)) this.setDatagramSize(MIN_INITIAL_DATAGRAM);
  }

  private setDatagramSize(size: number): void {
    this.datagramSize = size;
    this.onDatagramSize(size);
    this.reportMtu();
  }

  /** A `path-mtu` event when the size or the search state changed since the last one. */
  private reportMtu(): void {
    const size = this.datagramSize;
    const searching = this.mtu.searching;
    if (size === this.mtuReported.size && searching === this.mtuReported.searching) return;
    this.mtuReported = { size, searching };
    this.events.push({ type: 'path-mtu', size, searching });
  }
}
