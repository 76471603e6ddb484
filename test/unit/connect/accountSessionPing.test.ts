/**
 * `AccountSession.checkAlive` (roaming, issue 11): a XEP-0199 ping on the stream that is up. The
 * session logs in for real (the connector's direct-TLS path) to a scripted XMPP server on loopback
 * that answers or ignores pings on demand.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { AccountSession } from '../../../app/connect/accountSession.ts';
import type { ConnectDeps } from '../../../app/connect/connector.ts';
import type { AccountStatus } from '../../../app/contract/viewModels.ts';
import { scriptedLogin } from '../../support/fakeXmppServer.ts';
import { sessionCallbacks } from '../../support/sessionCallbacks.ts';
import { tlsTestServer } from '../../support/tlsTestServer.ts';
import { loopbackDeps } from '../../support/loopbackDeps.ts';

interface FakeServer {
  port: number;
  /** Connections accepted so far (each is one `establish`). */
  connections: number;
  /** The ping IQs received, as the client wrote them. */
  pings: string[];
  /** Whether pings are answered (a result), else ignored. */
  answerPings: boolean;
  /** Resolves when connection number `n` (1-based) is accepted. */
  connection(n: number): Promise<void>;
  /** Closes every connection from the server's side. */
  dropAll(): void;
}

/**
 * Direct TLS (XEP-0368) with the test certificate: PLAIN login, bind, an empty roster; pings are
 * answered while `answerPings` is true.
 */
async function fakeServer(t: TestContext): Promise<FakeServer> {
  const waiting = new Map<number, () => void>();
  const state: FakeServer = {
    port: 0,
    connections: 0,
    pings: [],
    answerPings: true,
    connection: (n) => (n <= state.connections ? Promise.resolve() : new Promise((resolve) => waiting.set(n, resolve))),
    dropAll: () => {
      for (const s of server.sockets) s.destroy();
    },
  };
  const server = await tlsTestServer(t, (socket) => {
    state.connections++;
    waiting.get(state.connections)?.();
    socket.on(
      'data',
      scriptedLogin((text) => socket.write(text), {
        boundJid: () => 'alice@example.org/q',
        onStanza: (el, id, write) => {
          if (el.includes('urn:xmpp:ping')) {
            state.pings.push(el);
            if (state.answerPings) write(`<iq type='result' id='${id}' from='example.org'/>`);
          } else if (el.includes('jabber:iq:roster')) {
            write(`<iq type='result' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
          }
        },
      }),
    );
  });
  state.port = server.port;
  return state;
}

/** Discovery finds only the fake server (direct TLS); every other service is declined ("."). */
function depsFor(port: number): () => ConnectDeps {
  return () => loopbackDeps({ tls: port }, 5000);
}

interface Watched {
  session: AccountSession;
  statuses: AccountStatus[];
  /** Resolves when the status has been `status` `n` times in all. */
  reached(status: AccountStatus, n: number): Promise<void>;
}

function watchedSession(port: number): Watched {
  const statuses: AccountStatus[] = [];
  const waiters: { status: AccountStatus; n: number; resolve: () => void }[] = [];
  const count = (status: AccountStatus) => statuses.filter((s) => s === status).length;
  const callbacks = sessionCallbacks({
    status(status) {
      statuses.push(status);
      for (const w of [...waiters])
        if (w.status === status && count(status) >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    },
  });
  const session = new AccountSession(
    { accountId: 'a1', jid: 'alice@example.org', preference: 'auto', password: async () => 'pw', deps: depsFor(port) },
    callbacks,
  );
  return {
    session,
    statuses,
    reached: (status, n) =>
      count(status) >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ status, n, resolve })),
  };
}

/** A fake server and a session logged in to it; the session is stopped when the test ends. */
async function online(t: TestContext): Promise<{ server: FakeServer; w: Watched }> {
  const server = await fakeServer(t);
  const w = watchedSession(server.port);
  t.after(() => w.session.stop());
  w.session.start();
  await w.reached('online', 1);
  return { server, w };
}

test("checkAlive is 'offline' when no stream is up", async () => {
  const w = watchedSession(9);
  assert.deepEqual(await w.session.checkAlive(1000), { outcome: 'offline', ms: 0 });
  assert.equal(w.session.record, null);
});

test("checkAlive is 'alive' when the server answers the ping, and nothing reconnects", async (t) => {
  const { server, w } = await online(t);
  assert.ok(w.session.record, 'the live stream has its security record');
  const result = await w.session.checkAlive(5000);
  assert.equal(result.outcome, 'alive');
  assert.ok(result.ms >= 0 && result.ms < 5000);
  assert.equal(server.pings.length, 1);
  assert.match(server.pings[0]!, /type=["']get["']/);
  assert.match(server.pings[0]!, /to=["']example\.org["']/);
  assert.equal(server.connections, 1);
  assert.deepEqual(w.statuses, ['connecting', 'online']);
});

test("checkAlive is 'dead' after the timeout without an answer, and the session connects again", async (t) => {
  const { server, w } = await online(t);
  server.answerPings = false;
  const result = await w.session.checkAlive(200);
  assert.equal(result.outcome, 'dead');
  assert.ok(result.ms >= 150, `${result.ms} ms`);
  assert.equal(w.session.online, false, 'the silent stream is dropped at once');
  assert.equal(w.session.record, null);
  assert.deepEqual(w.statuses.slice(0, 3), ['connecting', 'online', 'connecting']);
  assert.ok(!w.statuses.includes('error'), w.statuses.join(', '));
  // A new establish: the server sees a second connection, and the account is online again.
  await server.connection(2);
  await w.reached('online', 2);
  server.answerPings = true;
  assert.equal((await w.session.checkAlive(5000)).outcome, 'alive');
});

test("after a 'dead' check the session connects again at once, not after the first backoff step (about 1 s)", async (t) => {
  const { server, w } = await online(t);
  server.answerPings = false;
  assert.equal((await w.session.checkAlive(100)).outcome, 'dead');
  const dead = performance.now();
  await server.connection(2);
  const waited = performance.now() - dead;
  assert.ok(waited < 400, `the new connection started ${Math.round(waited)} ms after the check failed`);
});

test('stop() during a liveness check ends the check and still resolves (the check never takes the stream over)', async (t) => {
  const server = await fakeServer(t);
  const w = watchedSession(server.port);
  w.session.start();
  await w.reached('online', 1);
  server.answerPings = false; // a dead path: no answer to the ping, nor to our </stream:stream>
  const check = w.session.checkAlive(200);
  const stopping = w.session.stop();
  assert.equal((await check).outcome, 'offline', 'stop() ends the check at once');
  // Past the check's 200 ms: its timer must not have taken the stream over. The server now ends
  // the connection, and stop() sees the stream close.
  await new Promise((r) => setTimeout(r, 400));
  server.dropAll();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    stopping.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
  ]);
  clearTimeout(timer);
  assert.equal(stopped, true, 'stop() resolved');
  assert.equal(server.connections, 1, 'nothing connected again after stop()');
});
