/**
 * A QUIC server for the session pool's 0-RTT tests: it issues tickets that allow early data,
 * records what each stream receives (and whether its handshake had completed then) and echoes it;
 * and a ticket store with a promise for the next ticket it keeps, and a first connection that
 * leaves such a ticket in it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { QuicEndpoint, type ListenOptions } from '../../app/quic/driver/quicEndpoint.ts';
import type { QuicStreamHandle } from '../../app/quic/driver/quicConnectionHandle.ts';
import type { QuicSessions, QuicTarget } from '../../app/connect/quicSessions.ts';
import { memoryTicketStore, type TicketStore } from '../../app/connect/quicTicketStore.ts';
import type { StoredTicket } from '../../app/quic/tls/tickets.ts';
import type { TransportParameters } from '../../app/quic/transportParameters.ts';
import { testCertificate } from './quicPair.ts';

export interface Received {
  text: string;
  /** Whether the server's handshake had completed when each chunk arrived. */
  complete: boolean[];
}

/** The 0-RTT server on 127.0.0.1 for ALPN `alpn`; `transportParams` are its own. */
export async function earlyServer(
  alpn: string,
  transportParams: Partial<TransportParameters> = {},
): Promise<{
  ep: QuicEndpoint;
  streams: Received[];
  /** From now on, 0-RTT is rejected (the same ticket key: resumption still works). */
  rejectEarlyData(): void;
}> {
  const ep = await QuicEndpoint.bind({ address: '127.0.0.1', port: 0 });
  const streams: Received[] = [];
  const listen: ListenOptions = {
    alpn: [alpn],
    ...testCertificate(),
    ticketKey: new Uint8Array(randomBytes(32)),
    earlyData: true,
    transportParams,
    onConnection: (c) => {
      c.on('stream', (s: QuicStreamHandle) => {
        const r: Received = { text: '', complete: [] };
        streams.push(r);
        s.on('data', (chunk: Uint8Array) => {
          r.text += new TextDecoder().decode(chunk);
          r.complete.push(c.connection.isHandshakeComplete);
          s.write(chunk);
        });
        s.on('end', () => s.end());
      });
    },
  };
  ep.listen(listen);
  return { ep, streams, rejectEarlyData: () => ep.listen({ ...listen, earlyData: false }) };
}

/** A memory ticket store with a promise for the next ticket it keeps. */
export function ticketStore(): { tickets: TicketStore; nextPut(): Promise<StoredTicket> } {
  const inner = memoryTicketStore();
  let waiting: ((t: StoredTicket) => void) | null = null;
  return {
    tickets: {
      take: (n, a, now) => inner.take(n, a, now),
      put: (n, a, t, now) => {
        inner.put(n, a, t, now);
        waiting?.(t);
        waiting = null;
      },
    },
    nextPut: () => new Promise((resolve) => (waiting = resolve)),
  };
}

/** A first connection through `pool` that leaves a ticket allowing 0-RTT in the store. */
export async function primed(pool: QuicSessions, target: QuicTarget, kept: Promise<StoredTicket>): Promise<void> {
  const lease = await pool.acquire(target, { timeoutMs: 5000, verify: async () => true });
  const ticket = await kept;
  assert.ok(ticket.earlyData, 'the server issues tickets that allow 0-RTT');
  lease.transport.destroy();
}
