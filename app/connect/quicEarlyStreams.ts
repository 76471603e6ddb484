/**
 * The session pool's 0-RTT streams (RFC 9001 §4.6): a stream opened with bytes that are safe to
 * replay (issue 11: the XMPP stream header, never authentication) sent as early data, for the
 * account that opens a resumed connection and for each account that joins it while 0-RTT is still
 * possible. The QUIC layer keeps the limits: only the bytes given here go in 0-RTT packets, within
 * the limits remembered with the ticket (RFC 9000 §7.4.1: "Remembered transport parameters apply
 * to the new connection until the handshake completes"), so a stream beyond the remembered
 * initial_max_streams_bidi is not opened here (null: the caller opens one in 1-RTT); no 0-RTT
 * after a HelloRetryRequest or a rejection; and rejected early data is sent again in 1-RTT (RFC
 * 9001 §4.6.2), so the server gets each header once either way.
 */
import type { QuicConnectionHandle, QuicStreamHandle } from '../quic/driver/quicConnectionHandle.ts';
import { cipherSuiteById } from '../quic/tls/cipherSuites.ts';
import { fromBase64, type StoredTicket } from '../quic/tls/tickets.ts';
import type { TlsFacts } from '../transport/tlsFacts.ts';
import { QuicStreamTransport } from '../transport/quicStreamTransport.ts';

/** A stream whose first bytes went as early data, waiting for its account's lease. */
export interface EarlyStream {
  stream: QuicStreamHandle;
  transport: QuicStreamTransport;
  bytes: Uint8Array;
  /** Set by the lease: what the transport's `onFinished` does. */
  finished: (() => void) | null;
  leased: boolean;
  /** Ended by the pool before its lease (its 0-RTT was not taken): the lease opens a new stream. */
  discarded?: boolean;
}

/**
 * A connection sending early data, once its opener's precheck accepted the ticket's chain: what a
 * joiner needs to judge that chain for its own domain and open its stream in 0-RTT.
 */
export interface ZeroRttPhase {
  handle: QuicConnectionHandle;
  ticket: StoredTicket;
  /** The SNI the connection was opened with (the ticket's name). */
  sni: string;
}

/**
 * The facts a precheck judges: the chain stored with the ticket (end-entity first), as the
 * resumed handshake will present it (`resumed: true`), for the connection's SNI.
 */
export function ticketFacts(ticket: StoredTicket, sni: string): TlsFacts {
  return {
    version: 'TLSv1.3',
    cipher: cipherSuiteById(ticket.cipherSuite)?.name ?? null,
    alpn: ticket.alpn,
    sni,
    chain: ticket.peerChain.map(fromBase64),
    channelBinding: null,
    resumed: true,
    ech: 'not-available',
  };
}

/**
 * Opens a stream on `handle` with `bytes` as early data and wraps it at once (its 'data' events
 * are not replayed). Null when 0-RTT is not possible now: the connection closed, 0-RTT was not
 * offered, was rejected (a HelloRetryRequest included) or is over (1-RTT keys installed), or the
 * remembered stream limit is reached. The caller must lease the stream (`finished`, then
 * `transport.sentEarly(bytes)`) or destroy its transport.
 */
export function openEarlyStream(
  handle: QuicConnectionHandle,
  where: { address: string; port: number },
  bytes: Uint8Array,
): EarlyStream | null {
  if (handle.closeInfo !== null) return null;
  const stream = handle.openEarlyStream(bytes);
  if (!stream) return null;
  const early: EarlyStream = {
    stream,
    bytes,
    finished: null,
    leased: false,
    transport: new QuicStreamTransport(stream, `quic ${where.address}:${where.port} stream ${stream.id}`, () =>
      early.finished?.(),
    ),
  };
  return early;
}

/**
 * A joiner's stream in 0-RTT: `precheck` (the joiner's verifier, for its own domain, without
 * effects) judges the ticket's chain first, so that sharing across domains is covered by that
 * chain before any byte goes out, as for the opener. Null when it says no (or throws), when the
 * joiner was stopped meanwhile, or when 0-RTT is no longer possible (see `openEarlyStream`): the
 * joiner then opens its stream in 1-RTT, as before.
 */
export async function joinEarly(
  phase: ZeroRttPhase,
  where: { address: string; port: number },
  bytes: Uint8Array,
  precheck: (chain: Uint8Array[], facts: TlsFacts) => Promise<boolean>,
  signal: AbortSignal | undefined,
): Promise<EarlyStream | null> {
  // The server answered already (its handshake flight, a HelloRetryRequest): no verifier call for
  // a stream that would go in 1-RTT anyway.
  if (!stillEarly(phase.handle)) return null;
  const facts = ticketFacts(phase.ticket, phase.sni);
  // A verifier that throws counts as a no: nothing goes early.
  const ok = await precheck(facts.chain, facts).catch(() => false);
  if (!ok || signal?.aborted) return null;
  return openEarlyStream(phase.handle, where, bytes);
}

/** Whether 0-RTT is offered and not answered yet on `handle`. */
function stillEarly(handle: QuicConnectionHandle): boolean {
  return handle.closeInfo === null && handle.connection.earlyDataState === 'offered';
}
