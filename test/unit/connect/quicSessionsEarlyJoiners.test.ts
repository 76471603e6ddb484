/**
 * 0-RTT for the accounts that join a resumed connection while its handshake runs (issue 12's warm
 * start: "a warm start of 10 accounts over QUIC within 2 RTT (0-RTT stream header ...)"): each
 * joiner whose verifier accepts the ticket's chain for its own domain sends its stream header in
 * early data too, on a stream of its own, within the stream limit remembered with the ticket (RFC
 * 9000 §7.4.1); the others wait for 1-RTT. A server that rejects 0-RTT still gets every header
 * exactly once (the QUIC layer sends the rejected stream data again in 1-RTT).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  QuicSessions,
  type QuicAcquireOptions,
  type QuicLease,
  type QuicTarget,
} from '../../../app/connect/quicSessions.ts';
import { earlyServer, primed, ticketStore, type Received } from '../../support/quicEarlyServer.ts';

const ALPN = 'xmpp-client';
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const header = (account: string): string =>
  `<?xml version='1.0'?><stream:stream from='${account}' to='delta.test' version='1.0'>`;

interface Account {
  name: string;
  prechecks: number;
  options: QuicAcquireOptions;
}

/** One account's acquire options: its header as early data; `trusted` answers its precheck and verify. */
function account(name: string, trusted = true, extra: Partial<QuicAcquireOptions> = {}): Account {
  const a: Account = {
    name,
    prechecks: 0,
    options: {
      timeoutMs: 5000,
      earlyData: encode(header(name)),
      precheck: async () => {
        a.prechecks++;
        return trusted;
      },
      verify: async () => trusted,
      ...extra,
    },
  };
  return a;
}

/** Writes the account's header (as the stream machine does) and a stanza; resolves with the echo. */
function talk(lease: QuicLease, name: string): Promise<string> {
  const expected = `${header(name)}<presence/>`;
  const echoed = new Promise<string>((resolve, reject) => {
    let text = '';
    lease.transport.setHandlers({
      onData: (chunk) => {
        text += new TextDecoder().decode(chunk);
        if (text.length >= expected.length) resolve(text);
      },
      onClose: (error) => reject(error ?? new Error(`${name}: the stream closed before its echo`)),
    });
  });
  lease.transport.write(encode(header(name)));
  lease.transport.write(encode('<presence/>'));
  return echoed;
}

/** The server's record of the stream that carried `name`'s header. */
function streamOf(streams: Received[], name: string): Received {
  const found = streams.filter((s) => s.text.includes(`from='${name}'`));
  assert.equal(found.length, 1, `one stream carried ${name}'s header`);
  return found[0]!;
}

describe('QuicSessions: accounts joining a resumed connection send their headers in 0-RTT', { timeout: 30_000 }, () => {
  it('three joiners of a connection whose 0-RTT is in progress all send their headers early, once each', async () => {
    const { ep, streams } = await earlyServer(ALPN);
    const { tickets, nextPut } = ticketStore();
    const pool = new QuicSessions({ tickets });
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'delta.test', alpn: ALPN };
    try {
      await primed(pool, target, nextPut());
      const opener = account('a0', true, { sharing: 'own' });
      const joiners = ['a1', 'a2', 'a3'].map((n) => account(n));
      const leases = await Promise.all([opener, ...joiners].map((a) => pool.acquire(target, a.options)));
      assert.equal(leases[0]!.tlsFacts.resumed, true);
      for (const lease of leases) assert.equal(lease.connection, leases[0]!.connection, 'one connection for all');
      assert.equal(leases[0]!.connection.connection.earlyDataState, 'accepted');
      for (const [i, a] of [opener, ...joiners].entries())
        assert.equal(await talk(leases[i]!, a.name), `${header(a.name)}<presence/>`);
      for (const a of [opener, ...joiners]) {
        const s = streamOf(streams, a.name);
        assert.equal(s.text, `${header(a.name)}<presence/>`, `${a.name}: the header once, then the rest`);
        assert.equal(s.complete[0], false, `${a.name}: the header arrived before the server's handshake completed`);
      }
      for (const a of joiners) assert.equal(a.prechecks, 1, `${a.name}: the ticket chain judged for its domain`);
      for (const [i, lease] of leases.entries()) assert.equal(lease.early, true, `account ${i}'s header went in 0-RTT`);
      for (const lease of leases) lease.transport.end();
    } finally {
      await pool.close();
      await ep.close();
    }
  });

  it("a server that rejects 0-RTT gets each header exactly once: the opener's again in 1-RTT, each joiner's after its own verify", async () => {
    const { ep, streams, rejectEarlyData } = await earlyServer(ALPN);
    const { tickets, nextPut } = ticketStore();
    const pool = new QuicSessions({ tickets });
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'delta.test', alpn: ALPN };
    try {
      await primed(pool, target, nextPut());
      rejectEarlyData();
      const opener = account('r0', true, { sharing: 'own' });
      const joiners = ['r1', 'r2', 'r3'].map((n) => account(n));
      const leases = await Promise.all([opener, ...joiners].map((a) => pool.acquire(target, a.options)));
      assert.equal(leases[0]!.connection.connection.earlyDataState, 'rejected');
      for (const lease of leases) assert.equal(lease.connection, leases[0]!.connection);
      // The opener's rejected header goes again in 1-RTT, covered by its own verdict. A joiner's is
      // not sent again by QUIC (only the opener's verify had judged the server's answer): its early
      // stream ends, and it writes its header on a new stream after its own verify.
      assert.equal(leases[0]!.early, true, 'the opener: sent again in 1-RTT');
      for (const lease of leases.slice(1)) assert.equal(lease.early, false, 'a joiner: a new stream');
      for (const [i, a] of [opener, ...joiners].entries())
        assert.equal(await talk(leases[i]!, a.name), `${header(a.name)}<presence/>`);
      for (const a of [opener, ...joiners]) {
        const s = streamOf(streams, a.name);
        assert.equal(s.text, `${header(a.name)}<presence/>`, `${a.name}: exactly one header`);
      }
      assert.equal(streamOf(streams, opener.name).complete[0], true, 'the rejected header came again in 1-RTT');
      for (const lease of leases) lease.transport.end();
    } finally {
      await pool.close();
      await ep.close();
    }
  });

  it('never opens more streams in 0-RTT than the remembered initial_max_streams_bidi; the rest go 1-RTT', async () => {
    const { ep, streams } = await earlyServer(ALPN, { initialMaxStreamsBidi: 2 });
    const { tickets, nextPut } = ticketStore();
    const pool = new QuicSessions({ tickets });
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'delta.test', alpn: ALPN };
    try {
      await primed(pool, target, nextPut());
      const opener = account('s0', true, { sharing: 'own' });
      const joiners = ['s1', 's2', 's3'].map((n) => account(n));
      const pending = [opener, ...joiners].map((a) => pool.acquire(target, a.options));
      // A failed assertion below must not leave the waiting ones' rejections unobserved.
      for (const p of pending) p.catch(() => undefined);
      // Two streams at a time: the first two get theirs at once, in 0-RTT.
      const first = await Promise.all(pending.slice(0, 2));
      for (const lease of first) assert.equal(lease.early, true);
      for (const [i, lease] of first.entries()) {
        const name = [opener, ...joiners][i]!.name;
        assert.equal(await talk(lease, name), `${header(name)}<presence/>`);
        assert.equal(streamOf(streams, name).complete[0], false, `${name}: in 0-RTT`);
      }
      const early = streams.filter((s) => s.complete[0] === false);
      assert.equal(early.length, 2, 'no third stream reached the server early');
      // Their streams close; the server's credit lets the other two open theirs, in 1-RTT.
      for (const lease of first) lease.transport.end();
      const rest = await Promise.all(pending.slice(2));
      for (const [i, lease] of rest.entries()) {
        const name = joiners[i + 1]!.name;
        assert.equal(lease.early, false, `${name}: no room in 0-RTT`);
        assert.equal(lease.connection, first[0]!.connection);
        assert.equal(await talk(lease, name), `${header(name)}<presence/>`);
        assert.equal(streamOf(streams, name).complete[0], true, `${name}: in 1-RTT`);
        lease.transport.end();
      }
    } finally {
      await pool.close();
      await ep.close();
    }
  });

  it("a joiner whose domain the ticket's chain does not cover sends nothing early", async () => {
    const { ep, streams } = await earlyServer(ALPN);
    const { tickets, nextPut } = ticketStore();
    const pool = new QuicSessions({ tickets });
    const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'delta.test', alpn: ALPN };
    try {
      await primed(pool, target, nextPut());
      const opener = account('d0', true, { sharing: 'own' });
      const covered = account('d1');
      // Its own verifier refuses the chain for its domain: no 0-RTT, and a connection of its own.
      const uncovered = account('other', false);
      const verifiedOwn: boolean[] = [];
      uncovered.options.verify = async (_chain, _facts, joining) => {
        verifiedOwn.push(joining);
        return !joining;
      };
      const [l0, l1, l2] = await Promise.all([opener, covered, uncovered].map((a) => pool.acquire(target, a.options)));
      assert.equal(uncovered.prechecks, 1, 'its verifier judged the ticket chain for its domain');
      assert.equal(l0!.early, true);
      assert.equal(l1!.early, true);
      assert.equal(l2!.early, false, 'nothing early for the uncovered domain');
      assert.notEqual(l2!.connection, l0!.connection, 'a connection of its own');
      assert.deepEqual(verifiedOwn, [true, false]);
      for (const [lease, a] of [
        [l0!, opener],
        [l1!, covered],
        [l2!, uncovered],
      ] as const)
        assert.equal(await talk(lease, a.name), `${header(a.name)}<presence/>`);
      assert.equal(streamOf(streams, 'd1').complete[0], false);
      assert.equal(streamOf(streams, 'other').complete[0], true, 'its header went in 1-RTT on its own connection');
      for (const lease of [l0!, l1!, l2!]) lease.transport.end();
    } finally {
      await pool.close();
      await ep.close();
    }
  });
});
