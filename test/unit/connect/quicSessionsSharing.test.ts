/**
 * `QuicSessions` against our own QUIC endpoints on loopback: sharing a connection across names
 * (the joiner's own verification decides), a connection of its own with its own SNI when it says
 * no or asks for one, one handshake for concurrent callers, session tickets offered to the next
 * connection to the same name, and `networkChanged` moving every connection to a fresh socket.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import {
  QuicSessions,
  type QuicAcquireOptions,
  type QuicPathReport,
  type QuicTarget,
} from '../../../app/connect/quicSessions.ts';
import { memoryTicketStore, type TicketStore } from '../../../app/connect/quicTicketStore.ts';
import type { QuicStreamTransport } from '../../../app/transport/quicStreamTransport.ts';
import type { TransportParameters } from '../../../app/quic/transportParameters.ts';
import type { TlsFacts } from '../../../app/transport/tlsFacts.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';

interface Server {
  ep: QuicEndpoint;
  conns: QuicConnectionHandle[];
  /** The SNI of each connection, in the order the server saw them. */
  snis: (string | null)[];
}

/** An echo server that records the SNI of every connection; `tickets`: it issues session tickets. */
async function server(
  options: { tickets?: boolean; transportParams?: Partial<TransportParameters> } = {},
): Promise<Server> {
  const ep = await QuicEndpoint.bind({ address: '127.0.0.1', port: 0 });
  const conns: QuicConnectionHandle[] = [];
  const snis: (string | null)[] = [];
  const cert = testCertificate();
  ep.listen({
    alpn: [ALPN],
    ...cert,
    selectCertificate: (name) => {
      snis.push(name);
      return cert;
    },
    ...(options.tickets ? { ticketKey: new Uint8Array(randomBytes(32)) } : {}),
    transportParams: options.transportParams ?? {},
    onConnection: (c) => {
      conns.push(c);
      c.on('stream', (s: QuicStreamHandle) => {
        s.on('data', (chunk: Uint8Array) => s.write(chunk));
        s.on('end', () => s.end());
      });
    },
  });
  return { ep, conns, snis };
}

const target = (s: Server, sni: string): QuicTarget => ({
  address: '127.0.0.1',
  port: s.ep.address.port,
  sni,
  alpn: ALPN,
});

/** A verifier that records every call as [sni of the facts, joining] and answers with `answer`. */
function verifier(answer: (joining: boolean) => boolean): {
  calls: [string | undefined, boolean][];
  verify: QuicAcquireOptions['verify'];
} {
  const calls: [string | undefined, boolean][] = [];
  return {
    calls,
    verify: async (_chain, facts, joining) => {
      calls.push([facts?.sni, joining]);
      return answer(joining);
    },
  };
}

/** Writes `text` and resolves with what came back once it ends with `text`. */
function echo(t: QuicStreamTransport, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const decoder = new TextDecoder();
    t.setHandlers({
      onData: (chunk) => {
        received += decoder.decode(chunk);
        if (received.endsWith(text)) resolve(received);
      },
      onClose: (error) => reject(error ?? new Error('closed before the echo')),
    });
    t.write(new TextEncoder().encode(text));
  });
}

const OPTIONS = { timeoutMs: 5000 };

describe('QuicSessions: sharing across names', { timeout: 20_000 }, () => {
  it("a caller with another SNI joins the live connection when its verifier accepts the connection's identity", async () => {
    const s = await server();
    const pool = new QuicSessions();
    try {
      const a = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify: verifier(() => true).verify });
      const joiner = verifier(() => true);
      const b = await pool.acquire(target(s, 'b.test'), { ...OPTIONS, verify: joiner.verify });
      // It judged the connection's facts (proven for a.test) for its own domain, as a joiner.
      assert.deepEqual(joiner.calls, [['a.test', true]]);
      assert.equal(b.connectionId, a.connectionId);
      assert.equal(b.connection, a.connection);
      assert.equal(b.shared, true);
      assert.equal(a.shared, false);
      assert.equal(a.sharedWith, 0);
      assert.equal(b.sharedWith, 1);
      assert.notEqual(b.streamId, a.streamId);
      assert.equal(b.tlsFacts.sni, 'a.test');
      assert.deepEqual(s.snis, ['a.test'], 'one handshake, with the first name');
      assert.equal(s.conns.length, 1);
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 2 });
      const c = await pool.acquire(target(s, 'c.test'), { ...OPTIONS, verify: verifier(() => true).verify });
      assert.equal(c.sharedWith, 2);
      assert.equal(await echo(b.transport, '<b/>'), '<b/>');
    } finally {
      await pool.close();
      await s.ep.close();
    }
  });

  it('a caller whose verifier refuses the live connection gets one of its own, opened with its own SNI', async () => {
    const s = await server();
    const pool = new QuicSessions();
    try {
      const a = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify: verifier(() => true).verify });
      // Refuses what a.test's connection proves; accepts its own handshake.
      const joiner = verifier((joining) => !joining);
      const b = await pool.acquire(target(s, 'b.test'), { ...OPTIONS, verify: joiner.verify });
      assert.deepEqual(joiner.calls, [
        ['a.test', true],
        ['b.test', false],
      ]);
      assert.notEqual(b.connectionId, a.connectionId);
      assert.notEqual(b.connection, a.connection);
      assert.equal(b.shared, false);
      assert.equal(b.sharedWith, 0);
      assert.equal(b.tlsFacts.sni, 'b.test');
      assert.deepEqual(s.snis, ['a.test', 'b.test'], 'the server saw the second name in its own handshake');
      assert.equal(s.conns.length, 2);
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 2, streams: 2 });
      assert.equal(await echo(a.transport, '<a/>'), '<a/>');
      assert.equal(await echo(b.transport, '<b/>'), '<b/>');
      // A verifier that throws counts as a no too.
      const thrower: QuicAcquireOptions['verify'] = async (_chain, _facts, joining) => {
        if (joining) throw new Error('no proof for c.test');
        return true;
      };
      const c = await pool.acquire(target(s, 'c.test'), { ...OPTIONS, verify: thrower });
      assert.equal(c.shared, false);
      assert.deepEqual(s.snis, ['a.test', 'b.test', 'c.test']);
      // The next caller for b.test joins b.test's connection first (its own name), not a.test's.
      const b2 = await pool.acquire(target(s, 'b.test'), { ...OPTIONS, verify: verifier(() => true).verify });
      assert.equal(b2.connectionId, b.connectionId);
      assert.equal(b2.shared, true);
    } finally {
      await pool.close();
      await s.ep.close();
    }
  });

  it("sharing: 'own' always opens a new connection, even for the same name", async () => {
    const s = await server();
    const pool = new QuicSessions();
    try {
      const verify = verifier(() => true);
      const a = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify: verify.verify });
      const own = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify: verify.verify, sharing: 'own' });
      assert.notEqual(own.connectionId, a.connectionId);
      assert.equal(own.shared, false);
      assert.equal(s.conns.length, 2);
      // Never asked to judge the live connection: its own handshake only.
      assert.deepEqual(verify.calls, [
        ['a.test', false],
        ['a.test', false],
      ]);
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 2, streams: 2 });
    } finally {
      await pool.close();
      await s.ep.close();
    }
  });

  it('concurrent callers for the same name share one handshake; stats count the connection while it is being set up', async () => {
    const s = await server();
    const pool = new QuicSessions();
    try {
      const verify = verifier(() => true);
      const pending = [0, 1, 2].map(() => pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify: verify.verify }));
      assert.equal(pool.stats().connections, 1, 'registered before the handshake');
      const leases = await Promise.all(pending);
      assert.equal(new Set(leases.map((l) => l.connectionId)).size, 1);
      assert.deepEqual(
        leases.map((l) => l.shared),
        [false, true, true],
      );
      assert.equal(s.conns.length, 1);
      assert.deepEqual(s.snis, ['a.test']);
      assert.deepEqual(
        verify.calls.map(([, joining]) => joining),
        [false, true, true],
      );
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 3 });
    } finally {
      await pool.close();
      await s.ep.close();
    }
  });
});

/**
 * A ticket store that tells when a ticket arrived, and records the name each `take` was for (null
 * when it had none). Written against `TicketStore` whatever its key arguments are: the first one
 * names the server.
 */
function watchedTickets(): TicketStore & { arrived: Promise<string>; taken: (string | null)[] } {
  const inner = memoryTicketStore();
  let arrive!: (name: string) => void;
  const arrived = new Promise<string>((resolve) => (arrive = resolve));
  const taken: (string | null)[] = [];
  return {
    arrived,
    taken,
    take: (...args: Parameters<TicketStore['take']>) => {
      const ticket = inner.take(...args);
      taken.push(ticket ? String(args[0]) : null);
      return ticket;
    },
    put: (...args: Parameters<TicketStore['put']>) => {
      inner.put(...args);
      arrive(String(args[0]));
    },
  };
}

describe('QuicSessions: session tickets', { timeout: 20_000 }, () => {
  it('the next connection to the same name offers the ticket the first one received, and is resumed', async () => {
    const s = await server({ tickets: true });
    const tickets = watchedTickets();
    const pool = new QuicSessions({ tickets });
    try {
      const seen: (TlsFacts | null)[] = [];
      const verify: QuicAcquireOptions['verify'] = async (_chain, facts) => {
        seen.push(facts);
        return true;
      };
      const a = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify });
      assert.equal(a.tlsFacts.resumed, false);
      assert.match(await tickets.arrived, /^a\.test\b/);
      const b = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify, sharing: 'own' });
      assert.equal(tickets.taken.length, 2);
      assert.equal(tickets.taken[0], null, 'the first connection had no ticket to offer');
      assert.match(tickets.taken[1] ?? '', /^a\.test\b/, 'the second offered the ticket for its name');
      assert.equal(b.tlsFacts.resumed, true);
      // The verifier judged the resumed connection too, with the chain stored with the ticket.
      assert.equal(seen.length, 2);
      assert.equal(seen[1]?.chain.length, a.tlsFacts.chain.length);
      assert.deepEqual([...seen[1]!.chain[0]!], [...a.tlsFacts.chain[0]!]);
      assert.equal(await echo(b.transport, '<resumed/>'), '<resumed/>');
    } finally {
      await pool.close();
      await s.ep.close();
    }
  });

  it('a server that issues no tickets: the next connection is a full handshake', async () => {
    const s = await server();
    const tickets = watchedTickets();
    const pool = new QuicSessions({ tickets });
    try {
      const verify = verifier(() => true).verify;
      const a = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify });
      assert.equal(await echo(a.transport, '<x/>'), '<x/>');
      const b = await pool.acquire(target(s, 'a.test'), { ...OPTIONS, verify, sharing: 'own' });
      assert.deepEqual(tickets.taken, [null, null]);
      assert.equal(b.tlsFacts.resumed, false);
    } finally {
      await pool.close();
      await s.ep.close();
    }
  });
});

describe('QuicSessions: networkChanged', { timeout: 20_000 }, () => {
  it("moves every connection to a fresh socket: each reports 'migrated' with its RTT after path validation, and emits 'path'", async () => {
    const s1 = await server();
    const s2 = await server();
    const pool = new QuicSessions({ wallClock: () => 42 });
    try {
      const verify = verifier(() => true).verify;
      const a = await pool.acquire(target(s1, 'a.test'), { ...OPTIONS, verify });
      const b = await pool.acquire(target(s2, 'b.test'), { ...OPTIONS, verify });
      const a2 = await pool.acquire(target(s1, 'a.test'), { ...OPTIONS, verify, sharing: 'own' });
      assert.equal(await echo(a.transport, '<before/>'), '<before/>');
      assert.equal(await echo(b.transport, '<before/>'), '<before/>');
      assert.equal(await echo(a2.transport, '<before/>'), '<before/>');
      const emitted: QuicPathReport[] = [];
      pool.on('path', (r: QuicPathReport) => emitted.push(r));
      const reports = await pool.networkChanged({ from: '192.0.2.1', to: '198.51.100.7' });
      assert.deepEqual(
        reports.map((r) => r.connectionId).sort(),
        [a.connectionId, a2.connectionId, b.connectionId].sort(),
      );
      assert.deepEqual(sortById(emitted), sortById(reports));
      for (const { event } of reports) {
        assert.equal(event.kind, 'migrated', event.detail);
        assert.equal(event.at, 42);
        assert.equal(typeof event.rttAfterMs, 'number');
        assert.equal(typeof event.rttBeforeMs, 'number');
        assert.equal(event.from, `192.0.2.1 (${a.localAddress})`);
        assert.match(event.to ?? '', /^198\.51\.100\.7 \(127\.0\.0\.1:\d+\)$/);
        assert.notEqual(event.to, `198.51.100.7 (${a.localAddress})`, 'a fresh socket: another port');
      }
      // No new handshake: the same server connections carry on.
      assert.equal(s1.conns.length, 2);
      assert.equal(s2.conns.length, 1);
      assert.equal(await echo(a.transport, '<after/>'), '<after/>');
      assert.equal(await echo(b.transport, '<after/>'), '<after/>');
      assert.equal(await echo(a2.transport, '<after/>'), '<after/>');
      assert.equal(pool.stats().connections, 3);
    } finally {
      await pool.close();
      await s1.ep.close();
      await s2.ep.close();
    }
  });

  it("a connection that cannot migrate reports 'migration-failed' and its stream ends; the others migrate", async () => {
    const fixed = await server({ transportParams: { disableActiveMigration: true } });
    const mobile = await server();
    const pool = new QuicSessions();
    try {
      const verify = verifier(() => true).verify;
      const stuck = await pool.acquire(target(fixed, 'fixed.test'), { ...OPTIONS, verify });
      const moving = await pool.acquire(target(mobile, 'mobile.test'), { ...OPTIONS, verify });
      // A round trip first, so that the handshake is confirmed and the server's spare connection
      // IDs have arrived (RFC 9000 §9: no migration before that).
      assert.equal(await echo(moving.transport, '<first/>'), '<first/>');
      assert.equal(await echo(stuck.transport, '<first/>'), '<first/>');
      const stuckClosed = new Promise<Error | null>((resolve) =>
        stuck.transport.setHandlers({ onData: () => undefined, onClose: resolve }),
      );
      const reports = await pool.networkChanged();
      const byId = new Map(reports.map((r) => [r.connectionId, r.event]));
      assert.equal(byId.size, 2);
      const failed = byId.get(stuck.connectionId)!;
      assert.equal(failed.kind, 'migration-failed');
      assert.equal(failed.rttAfterMs, null);
      assert.match(failed.detail, /could not move/);
      assert.equal(byId.get(moving.connectionId)?.kind, 'migrated', byId.get(moving.connectionId)?.detail);
      assert.ok((await stuckClosed) instanceof Error, 'its account learns that the stream is gone');
      assert.equal(await echo(moving.transport, '<still/>'), '<still/>');
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 1 });
    } finally {
      await pool.close();
      await fixed.ep.close();
      await mobile.ep.close();
    }
  });

  it('with no connection, or after close, nothing is reported', async () => {
    const pool = new QuicSessions();
    assert.deepEqual(await pool.networkChanged(), []);
    await pool.close();
    assert.deepEqual(await pool.networkChanged(), []);
  });
});

function sortById(reports: QuicPathReport[]): QuicPathReport[] {
  return [...reports].sort((x, y) => x.connectionId.localeCompare(y.connectionId));
}
