/**
 * The endpoint's connections by their peer's address. RFC 9000 §10.3.1 asks an endpoint to
 * compare a possible Stateless Reset "with all stateless reset tokens associated with the remote
 * address on which the datagram was received": this index finds those connections without
 * walking all of them for every datagram that cannot be routed.
 */
import type { SocketAddress } from '../socketAddress.ts';

/** One key per peer; IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 address (as sameAddress). */
function peerKey(peer: SocketAddress): string {
  const host = peer.address.toLowerCase();
  const plain = host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
  return `${plain}|${peer.port}`;
}

export class PeerIndex<T> {
  private readonly byPeer = new Map<string, Set<T>>();
  private readonly keyOf = new Map<T, string>();

  /** Files `item` under `peer`; again whenever its peer moves (RFC 9000 §9). */
  set(item: T, peer: SocketAddress): void {
    this.delete(item);
    const k = peerKey(peer);
    let bucket = this.byPeer.get(k);
    if (!bucket) this.byPeer.set(k, (bucket = new Set()));
    bucket.add(item);
    this.keyOf.set(item, k);
  }

  delete(item: T): void {
    const k = this.keyOf.get(item);
    if (k === undefined) return;
    this.keyOf.delete(item);
    const bucket = this.byPeer.get(k);
    bucket?.delete(item);
    if (bucket?.size === 0) this.byPeer.delete(k);
  }

  /** The items filed under `peer` (a copy: callers may change the index while iterating). */
  at(peer: SocketAddress): T[] {
    return [...(this.byPeer.get(peerKey(peer)) ?? [])];
  }

  clear(): void {
    this.byPeer.clear();
    this.keyOf.clear();
  }
}
