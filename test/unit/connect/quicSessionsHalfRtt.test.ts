/**
 * A resumed login whose stream header went in 0-RTT and whose server answered in 0.5-RTT data (the
 * lab gateway forwarding early, Prosody 0.12 behind it): the server's stream header and features
 * reach the client before its handshake completes, so they are waiting in the stream's transport
 * before the connector starts the stream machine on it. The login must go on (<auth> follows the
 * features) exactly as when the answer comes later. Through QuicSessions, QuicStreamTransport and
 * StreamDriver as the connector uses them, against our own QUIC server on loopback.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { QuicSessions, type QuicTarget } from '../../../app/connect/quicSessions.ts';
import { StreamDriver } from '../../../app/connect/streamDriver.ts';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { ClientStreamMachine, type StreamEvent } from '../../../app/xmpp/streamMachine.ts';
import { primed, ticketStore } from '../../support/quicEarlyServer.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';
const DOMAIN = 'delta.test';
/** Prosody 0.12's answer to a client stream header, a few hundred bytes. */
const ANSWER =
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ` +
  `id='5f0c7a1e-2b9d-4c1e-9a77-0d3f1b2c4e5a' from='${DOMAIN}' version='1.0' xml:lang='en'>` +
  `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>` +
  `<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`;

interface ServerStream {
  text: string;
  /** Whether the server's handshake was still incomplete when it sent its answer. */
  answeredEarly: boolean | null;
}

/** A server that answers the first bytes of each stream at once (0.5-RTT when they came in 0-RTT). */
async function answeringServer(): Promise<{ ep: QuicEndpoint; streams: ServerStream[]; changed: EventTarget }> {
  const ep = await QuicEndpoint.bind({ address: '127.0.0.1', port: 0 });
  const streams: ServerStream[] = [];
  const changed = new EventTarget();
  ep.listen({
    alpn: [ALPN],
    ...testCertificate(),
    ticketKey: new Uint8Array(randomBytes(32)),
    earlyData: true,
    onConnection: (c) => {
      c.on('stream', (s: QuicStreamHandle) => {
        const r: ServerStream = { text: '', answeredEarly: null };
        streams.push(r);
        s.on('data', (chunk: Uint8Array) => {
          r.text += new TextDecoder().decode(chunk);
          if (r.answeredEarly === null) {
            r.answeredEarly = !c.connection.isHandshakeComplete;
            s.write(new TextEncoder().encode(ANSWER));
          }
          changed.dispatchEvent(new Event('change'));
        });
        s.on('end', () => s.end());
      });
    },
  });
  return { ep, streams, changed };
}

describe('QuicSessions: a 0-RTT stream header answered in 0.5-RTT', { timeout: 20_000 }, () => {
  it('the server features that came before the stream machine started are read: the client sends <auth>', async () => {
    const { ep, streams, changed } = await answeringServer();
    const { tickets, nextPut } = ticketStore();
    const pool = new QuicSessions({ tickets });
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: DOMAIN, alpn: ALPN };
    let driver: StreamDriver | null = null;
    try {
      await primed(pool, target, nextPut());
      const before = streams.length;
      const machine = new ClientStreamMachine({
        goal: 'session',
        jid: `carol@${DOMAIN}`,
        password: 'secret',
        resource: 'quiver',
        security: 'tls',
        channelBinding: null,
        sasl2: false,
      });
      const header = machine.openingHeader();
      assert.ok(header);
      const lease = await pool.acquire(target, {
        timeoutMs: 5000,
        sharing: 'own',
        earlyData: header,
        precheck: async () => true,
        verify: async () => true,
      });
      assert.equal(lease.connection.connection.earlyDataState, 'accepted');
      const events: StreamEvent[] = [];
      const faults: unknown[] = [];
      const d = new StreamDriver(machine, lease.transport, () => undefined);
      driver = d;
      const outcome = new Promise<string>((resolve) => {
        const check = () => {
          const s = streams[before];
          if (s?.text.includes('<auth')) resolve('auth');
        };
        changed.addEventListener('change', check);
        d.setEventHandler(
          (event) => {
            events.push(event);
            if (event.type === 'closed' || event.type === 'error') resolve(`${event.type}`);
          },
          (error) => faults.push(error),
        );
        d.start();
        check();
      });
      const result = await outcome;
      assert.deepEqual(faults, [], 'no handler threw');
      assert.equal(
        result,
        'auth',
        `the client went on to authenticate (events: ${events.map((e) => e.type).join(', ')})`,
      );
      const s = streams[before]!;
      assert.equal(s.answeredEarly, true, 'the server answered before its handshake completed (0.5-RTT)');
      assert.ok(s.text.startsWith(new TextDecoder().decode(header)), 'the header once, first');
    } finally {
      driver?.destroy();
      await pool.close();
      await ep.close();
    }
  });
});
