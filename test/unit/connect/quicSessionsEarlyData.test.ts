/**
 * 0-RTT through the session pool (issue 11: "0-RTT only for bytes that are safe to replay (the
 * stream header), never for authentication"): a pool resuming with a ticket that allows early
 * data runs the one verifier on the ticket's chain, then sends the caller's header in 0-RTT (our
 * own QUIC server sees it before its handshake completes); the header is not sent twice, and what
 * the caller writes next waits for 1-RTT. A verifier that refuses the ticket's chain lets nothing out.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { QuicSessions, type QuicTarget } from '../../../app/connect/quicSessions.ts';
import { memoryTicketStore, type TicketStore } from '../../../app/connect/quicTicketStore.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';
import type { TlsFacts } from '../../../app/transport/tlsFacts.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';
const HEADER = "<?xml version='1.0'?><stream:stream to='delta.test' version='1.0'>";
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Received {
  text: string;
  /** Whether the server's handshake had completed when each chunk arrived. */
  complete: boolean[];
}

/** A 0-RTT server: tickets allow early data; records what each stream receives and when. */
async function earlyServer(): Promise<{ ep: QuicEndpoint; streams: Received[] }> {
  const ep = await QuicEndpoint.bind();
  const streams: Received[] = [];
  ep.listen({
    alpn: [ALPN],
    ...testCertificate(),
    ticketKey: new Uint8Array(randomBytes(32)),
    earlyData: true,
    onConnection: (c) => {
      c.on('stream', (s: QuicStreamHandle) => {
        const r: Received = { text: '', complete: [] };
        streams.push(r);
        s.on('data', (chunk: Uint8Array) => {
          r.text += new TextDecoder().decode(chunk);
          r.complete.push(c.connection.isHandshakeComplete);
          s.write(chunk);
        });
      });
    },
  });
  return { ep, streams };
}

/** A memory store with a promise for the next ticket it keeps. */
function store(): { tickets: TicketStore; nextPut(): Promise<StoredTicket> } {
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

/** A first connection that leaves a ticket allowing 0-RTT in the store. */
async function primed(pool: QuicSessions, target: QuicTarget, kept: Promise<StoredTicket>): Promise<void> {
  const lease = await pool.acquire(target, { timeoutMs: 5000, verify: async () => true });
  const ticket = await kept;
  assert.ok(ticket.earlyData, 'the server issues tickets that allow 0-RTT');
  lease.transport.destroy();
}

describe('QuicSessions: the stream header in 0-RTT', { timeout: 20_000 }, () => {
  it('prechecks the ticket chain, then sends the header early; the handshake is verified after; nothing repeated, the rest in 1-RTT', async () => {
    const { ep, streams } = await earlyServer();
    const { tickets, nextPut } = store();
    const pool = new QuicSessions({ tickets });
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'delta.test', alpn: ALPN };
    try {
      await primed(pool, target, nextPut());
      const before = streams.length;
      const prechecked: { facts: TlsFacts; streamsAtCheck: number }[] = [];
      const verified: { facts: TlsFacts | null; afterPrecheck: boolean }[] = [];
      const lease = await pool.acquire(target, {
        timeoutMs: 5000,
        sharing: 'own',
        earlyData: encode(HEADER),
        precheck: async (_chain, facts) => {
          prechecked.push({ facts, streamsAtCheck: streams.length });
          return true;
        },
        verify: async (_chain, facts) => {
          verified.push({ facts, afterPrecheck: prechecked.length === 1 });
          return true;
        },
      });
      assert.equal(prechecked.length, 1, 'the ticket chain was judged once');
      assert.equal(prechecked[0]!.facts.resumed, true, 'the chain stored with the ticket');
      assert.equal(prechecked[0]!.streamsAtCheck, before, 'before the header reached the server');
      assert.equal(
        verified.length,
        1,
        "the server's answer is verified as for any handshake (the only call with effects)",
      );
      assert.equal(verified[0]!.afterPrecheck, true, 'after the precheck settled');
      assert.equal(verified[0]!.facts?.resumed, true);
      assert.equal(lease.tlsFacts.resumed, true);
      const echoed = new Promise<string>((resolve) => {
        let text = '';
        lease.transport.setHandlers({
          onData: (chunk) => {
            text += new TextDecoder().decode(chunk);
            if (text.endsWith('<auth/>')) resolve(text);
          },
          onClose: () => undefined,
        });
      });
      // The stream machine writes its header as on any transport: the transport does not send it again.
      lease.transport.write(encode(HEADER));
      lease.transport.write(encode('<auth/>'));
      assert.equal(await echoed, `${HEADER}<auth/>`);
      const early = streams[before]!;
      assert.equal(early.text, `${HEADER}<auth/>`, 'the header once, then the rest');
      assert.equal(early.complete[0], false, "the header arrived before the server's handshake completed");
      assert.equal(early.complete.at(-1), true, 'what followed came in 1-RTT');
      lease.transport.end();
    } finally {
      await pool.close();
      await ep.close();
    }
  });

  it('a verifier that refuses the ticket chain lets nothing reach the server', async () => {
    const { ep, streams } = await earlyServer();
    const { tickets, nextPut } = store();
    const pool = new QuicSessions({ tickets });
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'delta.test', alpn: ALPN };
    try {
      await primed(pool, target, nextPut());
      const before = streams.length;
      let calls = 0;
      let prechecks = 0;
      await assert.rejects(
        pool.acquire(target, {
          timeoutMs: 5000,
          sharing: 'own',
          earlyData: encode(HEADER),
          precheck: async () => {
            prechecks++;
            return false;
          },
          verify: async () => {
            calls++;
            return false;
          },
        }),
        (e: unknown) => e instanceof ConnectError && e.code === 'untrusted',
      );
      assert.equal(prechecks, 1);
      assert.equal(calls, 1);
      assert.equal(streams.length, before, 'no stream reached the server');
    } finally {
      await pool.close();
      await ep.close();
    }
  });
});
