/**
 * Client: 1-RTT packets that arrive before the client has 1-RTT read keys (the server's 0.5-RTT
 * data, sent after its Finished, reaches us while our certificate check is still running or in the
 * same datagram as that Finished). RFC 9000 §5.2.1: "Due to packet reordering or loss, a client
 * might receive packets for a connection that are encrypted with a key it has not yet computed.
 * The client MAY drop these packets, or it MAY buffer them in anticipation of later packets that
 * allow it to compute the key." Dropping them cost the reply a probe timeout; we keep a few.
 *
 * Bounded: at most `MAX_HELD_PACKETS` packets and `MAX_HELD_BYTES` bytes (an unauthenticated
 * sender cannot grow it; anything past the bounds is dropped as before). The server can send no
 * more before the handshake completes than 3x what the client sent (RFC 9000 §8.1), a few
 * datagrams. Obligation of the owner: `take()` once the keys exist and process what it returns
 * in order.
 */
export const MAX_HELD_PACKETS = 16;
export const MAX_HELD_BYTES = 32 * 1024;

export interface HeldPacket<From> {
  /** A copy of the packet's bytes (one 1-RTT packet: the rest of its datagram). */
  data: Uint8Array;
  from: From;
}

export class HeldPackets<From> {
  private packets: HeldPacket<From>[] = [];
  private bytes = 0;

  /** Keeps a copy of `data`; returns false (keeps nothing) when that would pass a bound. */
  hold(data: Uint8Array, from: From): boolean {
    if (this.packets.length >= MAX_HELD_PACKETS || this.bytes + data.length > MAX_HELD_BYTES) return false;
    this.packets.push({ data: data.slice(), from });
    this.bytes += data.length;
    return true;
  }

  get size(): number {
    return this.packets.length;
  }

  /** Everything held, oldest first; the buffer is empty afterwards. */
  take(): HeldPacket<From>[] {
    const out = this.packets;
    this.packets = [];
    this.bytes = 0;
    return out;
  }
}
