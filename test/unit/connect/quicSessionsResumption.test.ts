/**
 * Session resumption across starts: a `QuicSessions` keeps the tickets our own QUIC server issues in
 * the profile's ticket table (storage/quicTickets.ts), and a second pool over the same profile (the
 * next cold start) resumes with one, the one verifier judging the chain stored with the ticket. A
 * ticket is never offered to another server name, whatever the store hands back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { QuicSessions, type QuicTarget } from '../../../app/connect/quicSessions.ts';
import { profileTicketStore, type TicketStore } from '../../../app/connect/quicTicketStore.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { bindStorage, type Storage } from '../../../app/storage/storage.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';
import type { TlsFacts } from '../../../app/transport/tlsFacts.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';

/** A server that issues a session ticket after each handshake and echoes every stream. */
async function ticketServer(): Promise<QuicEndpoint> {
  const ep = await QuicEndpoint.bind();
  ep.listen({
    alpn: [ALPN],
    ...testCertificate(),
    ticketKey: new Uint8Array(randomBytes(32)),
    onConnection: (c) => {
      c.on('stream', (s: QuicStreamHandle) => {
        s.on('data', (chunk: Uint8Array) => s.write(chunk));
        s.on('end', () => s.end());
      });
    },
  });
  return ep;
}

/** The profile's store, with a promise for the next ticket it keeps. */
function profile(t: { after(fn: () => void): void }): {
  storage: Storage;
  store: TicketStore;
  nextPut(): Promise<StoredTicket>;
} {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const storage = bindStorage(db);
  const inner = profileTicketStore(storage);
  let waiting: ((ticket: StoredTicket) => void) | null = null;
  const store: TicketStore = {
    take: (serverName, alpn, now) => inner.take(serverName, alpn, now),
    put: (serverName, alpn, ticket, now) => {
      inner.put(serverName, alpn, ticket, now);
      waiting?.(ticket);
      waiting = null;
    },
  };
  return {
    storage,
    store,
    nextPut: () =>
      new Promise((resolve) => {
        waiting = resolve;
      }),
  };
}

/** Acquires one stream, checks it carries bytes, ends it; returns the facts and what `verify` saw. */
async function once(
  pool: QuicSessions,
  target: QuicTarget,
  answer = true,
): Promise<{ facts: TlsFacts; verified: { chain: Uint8Array[]; facts: TlsFacts | null }[] }> {
  const verified: { chain: Uint8Array[]; facts: TlsFacts | null }[] = [];
  const lease = await pool.acquire(target, {
    timeoutMs: 5000,
    verify: async (chain, facts) => {
      verified.push({ chain, facts });
      return answer;
    },
  });
  const echoed = await new Promise<string>((resolve) => {
    let text = '';
    lease.transport.setHandlers({
      onData: (chunk) => {
        text += new TextDecoder().decode(chunk);
        if (text === '<stream:stream>') resolve(text);
      },
      onClose: () => undefined,
    });
    lease.transport.write(new TextEncoder().encode('<stream:stream>'));
  });
  assert.equal(echoed, '<stream:stream>');
  lease.transport.end();
  return { facts: lease.tlsFacts, verified };
}

describe('QuicSessions: resumption across starts', { timeout: 20_000 }, () => {
  it('a second pool over the same profile resumes with the ticket the first one kept', async (t) => {
    const ep = await ticketServer();
    const { storage, store, nextPut } = profile(t);
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
    try {
      const first = new QuicSessions({ tickets: store });
      const kept = nextPut();
      const cold = await once(first, target);
      assert.equal(cold.facts.resumed, false);
      await kept;
      await first.close();

      // The next start: a new pool, the same profile.
      const second = new QuicSessions({ tickets: profileTicketStore(storage) });
      try {
        const warm = await once(second, target);
        assert.equal(warm.facts.resumed, true);
        assert.equal(warm.facts.signatureScheme, null, 'no certificate and no signature on resumption');
        // The one verifier still ran, on the chain stored with the ticket.
        assert.equal(warm.verified.length, 1);
        assert.deepEqual(warm.verified[0]!.chain, cold.facts.chain);
        assert.equal(warm.verified[0]!.facts?.resumed, true);
      } finally {
        await second.close();
      }
      // Each ticket is used once: the one taken is gone, only what the resumed connection was
      // issued (if it arrived before close) may remain.
      assert.ok(storage.clearQuicTickets() <= 1);
    } finally {
      await ep.close();
    }
  });

  it('a resumed connection whose stored chain the verifier refuses is not used', async (t) => {
    const ep = await ticketServer();
    const { store, nextPut } = profile(t);
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
    try {
      const first = new QuicSessions({ tickets: store });
      const kept = nextPut();
      await once(first, target);
      await kept;
      await first.close();

      const second = new QuicSessions({ tickets: store });
      try {
        await assert.rejects(
          second.acquire(target, { timeoutMs: 5000, verify: async (_chain, facts) => facts?.resumed !== true }),
          (e: unknown) => e instanceof ConnectError && e.code === 'untrusted',
        );
      } finally {
        await second.close();
      }
    } finally {
      await ep.close();
    }
  });

  it('a ticket for another server name, handed out by a damaged store, is not resumed: a full handshake', async (t) => {
    const ep = await ticketServer();
    const { store, nextPut } = profile(t);
    const alpha: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'alpha.test', alpn: ALPN };
    try {
      const first = new QuicSessions({ tickets: store });
      const kept = nextPut();
      await once(first, alpha);
      const alphaTicket = await kept;
      await first.close();

      // A store that hands alpha's ticket to anyone (a damaged profile): beta still gets a full handshake.
      const asked: string[] = [];
      const lying: TicketStore = {
        take: (serverName) => {
          asked.push(serverName);
          return alphaTicket;
        },
        put: () => undefined,
      };
      const second = new QuicSessions({ tickets: lying });
      try {
        const beta = await once(second, { ...alpha, sni: 'beta.test' });
        assert.deepEqual(asked, ['beta.test']);
        assert.equal(beta.facts.sni, 'beta.test');
        assert.equal(beta.facts.resumed, false, 'alpha.test’s ticket was not offered to beta.test');
        assert.notEqual(beta.facts.signatureScheme, null, 'the server proved itself with a signature');
      } finally {
        await second.close();
      }
    } finally {
      await ep.close();
    }
  });
});
