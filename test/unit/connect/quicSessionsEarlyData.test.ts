/**
 * 0-RTT through the session pool (issue 11: "0-RTT only for bytes that are safe to replay (the
 * stream header), never for authentication"): a pool resuming with a ticket that allows early
 * data runs the one verifier on the ticket's chain, then sends the caller's header in 0-RTT (our
 * own QUIC server sees it before its handshake completes); the header is not sent twice, and what
 * the caller writes next waits for 1-RTT. A verifier that refuses the ticket's chain lets nothing out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicSessions, type QuicTarget } from '../../../app/connect/quicSessions.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import type { TlsFacts } from '../../../app/transport/tlsFacts.ts';
import { earlyServer, primed, ticketStore } from '../../support/quicEarlyServer.ts';

const ALPN = 'xmpp-client';
const HEADER = "<?xml version='1.0'?><stream:stream to='delta.test' version='1.0'>";
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('QuicSessions: the stream header in 0-RTT', { timeout: 20_000 }, () => {
  it('prechecks the ticket chain, then sends the header early; the handshake is verified after; nothing repeated, the rest in 1-RTT', async () => {
    const { ep, streams } = await earlyServer(ALPN);
    const { tickets, nextPut } = ticketStore();
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
    const { ep, streams } = await earlyServer(ALPN);
    const { tickets, nextPut } = ticketStore();
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
