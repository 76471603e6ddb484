/**
 * What a `QuicConnection` reports: `QuicEvent`s for the application (drained with `pollEvent()`)
 * and `EndpointEvent`s for the driver (drained with `pollEndpointEvent()`). Types only, shared by
 * the connection and the pieces that queue events for it (`StreamManager`, `PathState`), so none
 * of them imports the connection.
 */
import type { SocketAddress } from './socketAddress.ts';
import type { StoredTicket } from './tls/tlsHandshake.ts';

export type QuicEvent =
  | { type: 'handshake-complete'; alpn: string | null }
  /** Client: the server's chain. Call `acceptPeer()` or `rejectPeer()`; nothing is sent on streams before. */
  | { type: 'peer-certificate'; chain: Uint8Array[] }
  /** Client: store it and pass it as `ticket` to a later `connect` for resumption. */
  | { type: 'session-ticket'; ticket: StoredTicket }
  /**
   * 0-RTT was offered (client) or asked for (server): whether the server accepted it. Client, on
   * rejection: the early stream data goes again in 1-RTT (RFC 9001 §4.6.2), nothing to do.
   */
  | { type: 'early-data'; accepted: boolean }
  | { type: 'stream-opened'; id: number; bidi: boolean }
  | { type: 'stream-readable'; id: number }
  | { type: 'stream-writable'; id: number }
  | { type: 'stream-reset'; id: number; code: number }
  | { type: 'stream-stop-sending'; id: number; code: number }
  /**
   * The connection forgot the stream: both halves are done (RFC 9000 §3: "Data Recvd" or "Reset
   * Read", and "Data Recvd" or "Reset Recvd" on the sending side). Queued after the stream's last
   * event; no event names this ID again, so the application must drop what it keeps for it.
   */
  | { type: 'stream-collected'; id: number }
  | { type: 'streams-available'; bidi: boolean }
  | { type: 'path-validated'; remote: SocketAddress }
  | { type: 'migrated'; remote: SocketAddress }
  /** Path MTU discovery: the datagram size in use changed, or the search ended (`searching` false). */
  | { type: 'path-mtu'; size: number; searching: boolean }
  | { type: 'key-update'; phase: number; local: boolean }
  /** The connection is over for the application; `code` is the RFC 9000 transport or application error code. */
  | { type: 'closed'; code: number; codeName: string; reason: string; local: boolean; app: boolean };

/** Events for the driver: which connection IDs route to this connection, and when it can be forgotten. */
export type EndpointEvent =
  { type: 'cid-issued'; cid: Uint8Array } | { type: 'cid-retired'; cid: Uint8Array } | { type: 'drained' };
