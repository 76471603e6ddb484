/**
 * `establish`'s race between QUIC and TCP (issue 11: QUIC gets a head start, then the first
 * verified attempt logs in, never two), with scripted XMPP servers on loopback: one behind our
 * own QUIC endpoint, one on direct TLS. The verifier is a fake that trusts everything.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { establish, type ConnectDeps, type TransportMemoryAdvisor } from '../../../app/connect/connector.ts';
import { QuicSessions } from '../../../app/connect/quicSessions.ts';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import type { SecurityRecord } from '../../../app/contract/viewModels.ts';
import { testCertificate } from '../../support/quicPair.ts';
import { scriptedLogin } from '../../support/fakeXmppServer.ts';
import { tlsTestServer } from '../../support/tlsTestServer.ts';
import { loopbackDeps } from '../../support/loopbackDeps.ts';
import { TRUSTED } from '../../support/verdicts.ts';

/** Counts of what one scripted server saw. */
interface Seen {
  connections: number;
  logins: number;
  binds: number;
}

/** The server's side of a PLAIN login and bind, over any byte stream. */
function script(write: (text: string) => void, seen: Seen): (chunk: Uint8Array) => void {
  return scriptedLogin(write, {
    boundJid: (domain) => `${domain === 'example.org' || domain === 'a.example' ? 'alice' : 'bob'}@${domain}/q`,
    onAuth: () => seen.logins++,
    onBind: () => seen.binds++,
  });
}

async function tlsServer(t: TestContext): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { connections: 0, logins: 0, binds: 0 };
  const { port } = await tlsTestServer(t, (socket) => {
    seen.connections++;
    socket.on(
      'data',
      script((text) => socket.write(text), seen),
    );
  });
  return { port, seen };
}

/** `silent`: a bound UDP socket that answers nothing (UDP blocked beyond it). */
async function quicServer(t: TestContext, silent = false): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { connections: 0, logins: 0, binds: 0 };
  const ep = await QuicEndpoint.bind({ address: '127.0.0.1', port: 0 });
  if (!silent)
    ep.listen({
      alpn: ['xmpp-client'],
      ...testCertificate(),
      onConnection: (c) => {
        seen.connections++;
        c.on('stream', (s: QuicStreamHandle) => {
          s.on(
            'data',
            script((text) => s.write(new TextEncoder().encode(text)), seen),
          );
        });
      },
    });
  t.after(() => ep.close());
  return { port: ep.address.port, seen };
}

interface Run {
  deps: ConnectDeps;
  pool: QuicSessions;
  memory: { advice: string[]; recorded: string[] };
}

function deps(
  t: TestContext,
  ports: { quic: number | null; tls: number | null },
  advice: 'quic-first' | 'tcp-first' = 'quic-first',
): Run {
  const pool = new QuicSessions();
  t.after(() => pool.close());
  const memory = { advice: [] as string[], recorded: [] as string[] };
  const transportMemory: TransportMemoryAdvisor = {
    advice: (domain) => {
      memory.advice.push(domain);
      return advice;
    },
    record: (_domain, outcome) => void memory.recorded.push(outcome),
  };
  return {
    pool,
    memory,
    deps: {
      ...loopbackDeps(ports, 3000),
      quic: pool,
      transportMemory,
    },
  };
}

const REQUEST = { jid: 'alice@example.org', password: 'pw', preference: 'auto' as const, accountId: 'a1' };

function closeAll(driver: { close(): void }): void {
  driver.close();
}

test('QUIC answers within its head start: it logs in, TCP never starts', async (t) => {
  const q = await quicServer(t);
  const s = await tlsServer(t);
  const run = deps(t, { quic: q.port, tls: s.port });
  const done = await establish(REQUEST, run.deps);
  t.after(() => closeAll(done.driver));
  assert.equal(done.record.transport, 'quic');
  assert.equal(done.record.fallback, null);
  assert.ok(done.record.quicConnectionId);
  assert.equal(done.boundJid, 'alice@example.org/q');
  assert.deepEqual([q.seen.logins, q.seen.binds], [1, 1]);
  assert.deepEqual(s.seen, { connections: 0, logins: 0, binds: 0 });
  assert.deepEqual(run.memory.recorded, ['quic-ok']);
});

test('QUIC silent: after the head start TCP starts and wins, the record says why, the QUIC attempt is stopped', async (t) => {
  const q = await quicServer(t, true);
  const s = await tlsServer(t);
  const run = deps(t, { quic: q.port, tls: s.port });
  const saved: SecurityRecord[] = [];
  run.deps.saveRecord = (r) => void saved.push(r);
  const started = performance.now();
  const done = await establish(REQUEST, run.deps);
  t.after(() => closeAll(done.driver));
  assert.ok(performance.now() - started >= 250, 'TCP waited for the head start');
  assert.equal(done.record.transport, 'tls');
  assert.match(done.record.fallback ?? '', /^XMPP over QUIC was tried first and TCP won: /);
  assert.deepEqual([s.seen.connections, s.seen.logins, s.seen.binds], [1, 1, 1]);
  assert.deepEqual(run.memory.recorded, ['quic-failed']);
  // The losing QUIC attempt was aborted: nothing of it is left in the pool.
  assert.equal(run.pool.stats().connections, 0);
});

test("'tcp-first' on this network: TCP starts at once, without waiting for QUIC's head start", async (t) => {
  const q = await quicServer(t, true);
  const s = await tlsServer(t);
  const run = deps(t, { quic: q.port, tls: s.port }, 'tcp-first');
  run.deps.quicHeadStartMs = 2000;
  const started = performance.now();
  const done = await establish(REQUEST, run.deps);
  t.after(() => closeAll(done.driver));
  assert.ok(performance.now() - started < 1500, `took ${Math.round(performance.now() - started)} ms`);
  assert.equal(done.record.transport, 'tls');
  assert.match(done.record.fallback ?? '', /failed on this network recently/);
});

test("the caller's abort during the race rejects with 'aborted' and nothing logs in afterwards", async (t) => {
  const q = await quicServer(t, true);
  const s = await tlsServer(t);
  const run = deps(t, { quic: q.port, tls: s.port });
  const controller = new AbortController();
  const attempt = establish({ ...REQUEST, signal: controller.signal }, run.deps);
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(attempt, (e: Error & { code?: string }) => e.code === 'aborted');
  // Give a leaked attempt the time to reach the TCP server and log in: none may.
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(s.seen.logins, 0);
  assert.equal(run.pool.stats().connections, 0);
});

test('an aborted attempt is not remembered as QUIC failing on this network', async (t) => {
  const q = await quicServer(t, true);
  const run = deps(t, { quic: q.port, tls: null });
  const controller = new AbortController();
  const attempt = establish({ ...REQUEST, signal: controller.signal }, run.deps);
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(attempt, (e: Error & { code?: string }) => e.code === 'aborted');
  assert.deepEqual(run.memory.recorded, []);
});

test('both answer after the head start: the first verified (TCP) logs in, QUIC verified later never logs in', async (t) => {
  const q = await quicServer(t);
  const s = await tlsServer(t);
  const run = deps(t, { quic: q.port, tls: s.port });
  run.deps.quicHeadStartMs = 50;
  // QUIC's verification takes long (a slow DANE lookup, say): TCP passes the verifier first.
  run.deps.verify = async (facts) => {
    if (facts.transport === 'quic') await new Promise((resolve) => setTimeout(resolve, 400));
    return TRUSTED;
  };
  const done = await establish(REQUEST, run.deps);
  t.after(() => closeAll(done.driver));
  assert.equal(done.record.transport, 'tls');
  // Wait until QUIC's verdict has come in and was refused the claim.
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(q.seen.connections, 1, 'QUIC did try');
  assert.equal(q.seen.logins, 0, 'never two logins');
  assert.equal(s.seen.logins, 1);
  assert.equal(run.pool.stats().connections, 0, 'the losing QUIC connection was closed');
});

test('an account joining a QUIC connection whose opener lost its race to TCP gets a connection of its own; nothing logs in twice', async (t) => {
  // alice@a.example opens the QUIC connection, but her QUIC verification is slow and her TCP wins:
  // her QUIC attempt stops. bob@b.example was waiting to join that connection: he must not fail
  // with 'aborted' (nobody stopped him), and no TCP attempt of his may log in behind his back.
  const q = await quicServer(t);
  const s = await tlsServer(t);
  const run = deps(t, { quic: q.port, tls: s.port });
  run.deps.quicHeadStartMs = 50;
  run.deps.verify = async (facts) => {
    if (facts.transport === 'quic' && facts.domain === 'a.example') await new Promise((r) => setTimeout(r, 400));
    if (facts.transport !== 'quic' && facts.domain === 'b.example') await new Promise((r) => setTimeout(r, 1000));
    return TRUSTED;
  };
  const saved = new Map<string, SecurityRecord>();
  run.deps.saveRecord = (r) => void saved.set(r.id, structuredClone(r));
  const a = establish({ ...REQUEST, jid: 'alice@a.example' }, run.deps);
  await new Promise((r) => setTimeout(r, 5));
  const b = establish({ ...REQUEST, jid: 'bob@b.example' }, run.deps);
  const [alice, bob] = await Promise.all([a, b]);
  t.after(() => {
    closeAll(alice.driver);
    closeAll(bob.driver);
  });
  assert.equal(alice.record.transport, 'tls');
  assert.equal(bob.record.transport, 'quic', 'bob got a QUIC connection of his own');
  // Let every loser run out: a TCP attempt left running would log in within its 1 s verification.
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(s.seen.logins, 1, 'one TCP login: alice');
  assert.equal(q.seen.logins, 1, 'one QUIC login: bob');
  const bound = [...saved.values()].filter((r) => r.boundJid !== null);
  assert.deepEqual(bound.map((r) => r.jid).sort(), ['alice@a.example', 'bob@b.example']);
});

test('a ticket from an earlier session does not win the race by itself: UDP blocked now, TCP still starts after the head start', async (t) => {
  // The first login leaves a ticket that allows 0-RTT. Then the QUIC server goes silent (UDP
  // blocked on the new network). The ticket's chain is trusted at once, but only the server's
  // answer may claim the login: TCP must start after the head start, not after QUIC's timeout.
  const seen: Seen = { connections: 0, logins: 0, binds: 0 };
  const ep = await QuicEndpoint.bind({ address: '127.0.0.1', port: 0 });
  ep.listen({
    alpn: ['xmpp-client'],
    ...testCertificate(),
    ticketKey: new Uint8Array(32).fill(7),
    earlyData: true,
    onConnection: (c) => {
      seen.connections++;
      c.on('stream', (s: QuicStreamHandle) => {
        s.on(
          'data',
          script((text) => s.write(new TextEncoder().encode(text)), seen),
        );
      });
    },
  });
  const s = await tlsServer(t);
  const run = deps(t, { quic: ep.address.port, tls: s.port });
  const first = await establish(REQUEST, run.deps);
  assert.equal(first.record.transport, 'quic');
  // The NewSessionTicket comes right after the handshake; the login took longer.
  closeAll(first.driver);
  await ep.close();
  // The first connection ends (the server closed it): the next login cannot join it, it must use the ticket.
  for (let i = 0; i < 200 && run.pool.stats().connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(run.pool.stats().connections, 0);
  const started = performance.now();
  const second = await establish(REQUEST, run.deps);
  t.after(() => closeAll(second.driver));
  const elapsed = performance.now() - started;
  assert.equal(second.record.transport, 'tls');
  assert.ok(elapsed < 2000, `TCP won after the head start, not after QUIC's 3 s timeout (${Math.round(elapsed)} ms)`);
  assert.match(second.record.fallback ?? '', /tried first and TCP won/);
});
