/**
 * XEP-0198 acknowledgements in `AccountSession`: the session logs in for real (the connector's
 * direct-TLS path) to a scripted server on loopback that offers stream management or not, and
 * reports the stanza ids the server acknowledged through the `acked` callback.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { AccountSession, type SessionCallbacks } from '../../../app/connect/accountSession.ts';
import { scriptedLogin } from '../../support/fakeXmppServer.ts';
import { sessionCallbacks } from '../../support/sessionCallbacks.ts';
import { tlsTestServer } from '../../support/tlsTestServer.ts';
import { loopbackDeps } from '../../support/loopbackDeps.ts';

const SM = `xmlns='urn:xmpp:sm:3'`;

interface Options {
  /** Offer <sm/> after authentication. */
  offerSm: boolean;
  /** Answer <enable/> with <failed/> instead of <enabled/>. */
  refuseEnable?: boolean;
  /** Answer pings (else they are ignored); read at each ping. */
  answerPings?: boolean;
  /** Answer <r/> (default true); read at each request. */
  answerAcks?: boolean;
}

interface FakeServer {
  port: number;
  /** Every element the client sent after binding, as written. */
  seen: string[];
  /** Ack requests (<r/>) received. */
  requests: number;
  /** Resolves when the client has sent an element matching `pattern` `n` times in all. */
  sent(pattern: RegExp, n?: number): Promise<void>;
}

/**
 * Direct TLS, PLAIN, bind, an empty roster. With `offerSm`, it enables stream management, counts
 * the stanzas it handled since <enable/> and answers each <r/> with <a h/> of that count.
 */
async function fakeServer(t: TestContext, options: Options): Promise<FakeServer> {
  const waiters: { pattern: RegExp; n: number; resolve: () => void }[] = [];
  const count = (pattern: RegExp) => state.seen.filter((el) => pattern.test(el)).length;
  const state: FakeServer = {
    port: 0,
    seen: [],
    requests: 0,
    sent: (pattern, n = 1) =>
      count(pattern) >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, n, resolve })),
  };
  const server = await tlsTestServer(t, (socket) => {
    let handled = 0;
    let enabled = false;
    socket.on(
      'data',
      scriptedLogin((text) => socket.write(text), {
        boundJid: () => 'alice@example.org/q',
        features: options.offerSm ? `<sm ${SM}/>` : '',
        onStanza: (el, id, write) => {
          state.seen.push(el);
          if (el.startsWith('<enable ')) {
            if (options.refuseEnable) {
              write(`<failed ${SM}><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`);
            } else {
              enabled = true;
              write(`<enabled ${SM}/>`);
            }
          } else if (el.startsWith('<r ')) {
            state.requests++;
            if (options.answerAcks !== false) write(`<a ${SM} h='${handled}'/>`);
          } else if (!el.startsWith('<a ')) {
            if (enabled) handled++;
            if (el.includes('urn:xmpp:ping')) {
              if (options.answerPings !== false) write(`<iq type='result' id='${id}' from='example.org'/>`);
            } else if (el.includes('jabber:iq:roster')) {
              write(`<iq type='result' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
            }
          }
          for (const w of [...waiters])
            if (count(w.pattern) >= w.n) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve();
            }
        },
      }),
    );
  });
  state.port = server.port;
  return state;
}

interface Running {
  session: AccountSession;
  acked: string[][];
  sent: string[];
  /** Resolves once `acked` has been called with ids covering all of `ids`. */
  ackedAll(ids: string[]): Promise<void>;
  online(): Promise<void>;
  /** Puts a message in the outbox (the test then calls `flushOutbox`). */
  add(message: { stanzaId: string; body: string }): void;
}

/** A session whose outbox holds `outbox` (taken once), stopped when the test ends. */
function session(t: TestContext, port: number, outbox: { stanzaId: string; body: string }[]): Running {
  const acked: string[][] = [];
  const sent: string[] = [];
  const waiters: { ids: string[]; resolve: () => void }[] = [];
  let queue = outbox.map((m, i) => ({ localId: String(i + 1), to: 'bob@example.org', ...m }));
  let onlineResolve: () => void = () => undefined;
  const onlineReached = new Promise<void>((resolve) => (onlineResolve = resolve));
  const covered = (ids: string[]) => ids.every((id) => acked.flat().includes(id));
  const callbacks: SessionCallbacks = sessionCallbacks({
    status: (status) => {
      if (status === 'online') onlineResolve();
    },
    outbox: () => queue,
    sent: (localId) => {
      sent.push(localId);
      queue = queue.filter((m) => m.localId !== localId);
    },
    acked: (ids) => {
      acked.push(ids);
      for (const w of [...waiters])
        if (covered(w.ids)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    },
  });
  const s = new AccountSession(
    {
      accountId: 'a1',
      jid: 'alice@example.org',
      preference: 'auto',
      password: async () => 'pw',
      deps: () => loopbackDeps({ tls: port }, 5000),
    },
    callbacks,
  );
  t.after(() => s.stop());
  s.start();
  return {
    session: s,
    acked,
    sent,
    ackedAll: (ids) => (covered(ids) ? Promise.resolve() : new Promise((resolve) => waiters.push({ ids, resolve }))),
    online: () => onlineReached,
    add: (m) =>
      queue.push({ localId: String(outbox.length + queue.length + sent.length + 1), to: 'bob@example.org', ...m }),
  };
}

const MESSAGE = /^<message /;
const REQUEST = /^<r /;

test(
  'SM offered: the outbox burst is followed by one ack request, and the ack reports the message ids',
  { timeout: 10_000 },
  async (t) => {
    const server = await fakeServer(t, { offerSm: true });
    const run = session(t, server.port, [
      { stanzaId: 'm-1', body: 'one' },
      { stanzaId: 'm-2', body: 'two' },
      { stanzaId: 'm-3', body: 'three' },
    ]);
    await run.ackedAll(['m-1', 'm-2', 'm-3']);
    assert.deepEqual(run.sent, ['1', '2', '3']);
    assert.equal(server.requests, 1, 'one <r/> after the burst, not one per message');
    assert.equal(server.seen.filter((el) => MESSAGE.test(el)).length, 3);
    // The ids come oldest first; iq and presence ids may come with them.
    const ids = run.acked.flat();
    assert.deepEqual(
      ids.filter((id) => id.startsWith('m-')),
      ['m-1', 'm-2', 'm-3'],
    );
    // <enable/> went out before anything the server counts, and <r/> after the messages.
    const enable = server.seen.findIndex((el) => el.startsWith('<enable '));
    const request = server.seen.findIndex((el) => REQUEST.test(el));
    assert.equal(enable, 0);
    assert.ok(request > server.seen.findLastIndex((el) => MESSAGE.test(el)));
    assert.match(server.seen[enable]!, /resume='true'/, 'a resumable session is asked for');
  },
);

test(
  'SM offered: a message flushed once online is acknowledged after its own ack request',
  { timeout: 10_000 },
  async (t) => {
    const server = await fakeServer(t, { offerSm: true });
    const run = session(t, server.port, []);
    await run.online();
    // Wait for the roster answer's round trip, so <enabled/> has certainly arrived.
    await server.sent(/jabber:iq:roster/);
    assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
    const before = server.requests;
    run.add({ stanzaId: 'later-1', body: 'later' });
    run.session.flushOutbox();
    await run.ackedAll(['later-1']);
    assert.equal(server.requests, before + 1);
  },
);

test('SM not offered: no <enable/>, no <r/>, and acked is never called', { timeout: 10_000 }, async (t) => {
  const server = await fakeServer(t, { offerSm: false });
  const run = session(t, server.port, [{ stanzaId: 'm-1', body: 'one' }]);
  await server.sent(MESSAGE);
  // A ping round trip after the message: anything the session would send about it is out by then.
  assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
  assert.deepEqual(run.sent, ['1']);
  assert.deepEqual(run.acked, []);
  assert.ok(!server.seen.some((el) => el.startsWith('<enable ') || REQUEST.test(el)), server.seen.join('\n'));
});

test('SM refused (<failed/> to <enable/>): no <r/>, and acked is never called', { timeout: 10_000 }, async (t) => {
  const server = await fakeServer(t, { offerSm: true, refuseEnable: true });
  const run = session(t, server.port, [{ stanzaId: 'm-1', body: 'one' }]);
  await server.sent(MESSAGE);
  assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
  assert.deepEqual(run.sent, ['1']);
  assert.deepEqual(run.acked, []);
  assert.ok(server.seen.some((el) => el.startsWith('<enable ')));
  assert.ok(!server.seen.some((el) => REQUEST.test(el)), server.seen.join('\n'));
});

test(
  'checkAlive with SM enabled: an ack answers as a pong does (the server ignores pings)',
  { timeout: 10_000 },
  async (t) => {
    const options: Options = { offerSm: true, answerPings: true };
    const server = await fakeServer(t, options);
    const run = session(t, server.port, []);
    await run.online();
    // A first check answered by a pong: <enabled/>, written before it, has arrived by then.
    assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
    options.answerPings = false;
    const requests = server.requests;
    const result = await run.session.checkAlive(5000);
    assert.equal(result.outcome, 'alive');
    assert.equal(server.requests, requests + 1, server.seen.join('\n'));
    assert.equal(run.session.online, true);
    // The ping it covered was reported among the acknowledged ids.
    const pings = server.seen.filter((el) => el.includes('urn:xmpp:ping'));
    const pingId = /\sid=["']([^"']+)["']/.exec(pings.at(-1)!)![1]!;
    assert.ok(run.acked.flat().includes(pingId));
  },
);

test('checkAlive with SM enabled and neither a pong nor an ack: dead', { timeout: 10_000 }, async (t) => {
  const options: Options = { offerSm: true, answerPings: true };
  const server = await fakeServer(t, options);
  const run = session(t, server.port, []);
  await run.online();
  assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
  options.answerPings = false;
  options.answerAcks = false;
  assert.equal((await run.session.checkAlive(200)).outcome, 'dead');
  assert.equal(run.session.online, false);
});
