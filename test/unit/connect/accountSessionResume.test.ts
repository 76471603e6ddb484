/**
 * Nothing lost across a dropped stream (issue 12): `AccountSession` logs in for real (direct TLS)
 * to a scripted server on loopback that keeps XEP-0198 sessions across connections, like Prosody's
 * mod_smacks. The test's outbox models storage: a message is 'queued', then 'sent' (with the SM
 * counter it was written under, or none), then 'acked'.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { AccountSession, type OutboxItem, type PersistedSmState } from '../../../app/connect/accountSession.ts';
import { scriptedLogin } from '../../support/fakeXmppServer.ts';
import { sessionCallbacks } from '../../support/sessionCallbacks.ts';
import { tlsTestServer } from '../../support/tlsTestServer.ts';
import { loopbackDeps } from '../../support/loopbackDeps.ts';

const SM = `xmlns='urn:xmpp:sm:3'`;
const MESSAGE = /^<message /;

interface ServerOptions {
  /** Answer <enable/> with <failed/>. */
  refuseEnable?: boolean;
  /** Answer <resume/> with <failed/> (the former session timed out). */
  refuseResume?: boolean;
  /** Answer <r/> (read at each request). */
  answerAcks?: boolean;
  /** Answer each message whose body is this with a stanza error. */
  rejectBody?: string;
  /** On the next <resume/>: the last this many stanzas were lost with the link (not handled). */
  forgetLast?: number;
  /** The session 'sm-1' exists already, with this many of the client's stanzas handled (a killed client's). */
  handledBefore?: number;
  /**
   * Hostile input on the first connection, sent after the message with this body was handled:
   * bytes that are not XML, a stream error no RFC defines, or an ack for more than was sent.
   */
  garbage?: { after: string; kind: 'xml' | 'stream-error' | 'ack-too-high' };
  /** Answer the next <resume/> with <resumed/> naming a stream that does not exist. */
  resumeOtherPrevid?: boolean;
}

interface Connection {
  socket: TLSSocket;
  /** Every element the client sent on this connection after authentication, as written. */
  seen: string[];
}

interface FakeServer {
  port: number;
  connections: Connection[];
  /** Bodies of the messages the server handled, in order, over all connections. */
  handledBodies: string[];
  /** Resolves when `pattern` has been seen `n` times on connection `index`. */
  seen(index: number, pattern: RegExp, n?: number): Promise<void>;
}

/**
 * PLAIN, bind or resume, an empty roster, and stream management with resumption: one session
 * ('sm-1') whose handled count carries over to a later connection that resumes it.
 */
async function fakeServer(t: TestContext, options: ServerOptions = {}): Promise<FakeServer> {
  const waiters: { index: number; pattern: RegExp; n: number; resolve: () => void }[] = [];
  const count = (index: number, pattern: RegExp) =>
    state.connections[index]?.seen.filter((el) => pattern.test(el)).length ?? 0;
  const state: FakeServer = {
    port: 0,
    connections: [],
    handledBodies: [],
    seen: (index, pattern, n = 1) =>
      count(index, pattern) >= n
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ index, pattern, n, resolve })),
  };
  // The session the server keeps: stanzas of the client it handled (its 'h').
  let handled = options.handledBefore ?? 0;
  const server = await tlsTestServer(t, (socket) => {
    const connection: Connection = { socket, seen: [] };
    state.connections.push(connection);
    let counting = false;
    // The client's orderly close is answered in kind, so `stop()` does not wait for a timeout.
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('</stream:stream>')) socket.end('</stream:stream>');
    });
    socket.on(
      'data',
      scriptedLogin((text) => socket.write(text), {
        boundJid: () => 'alice@example.org/quiver-1',
        features: `<sm ${SM}/>`,
        onStanza: (el, id, write) => {
          connection.seen.push(el);
          if (el.startsWith('<enable ')) {
            if (options.refuseEnable) {
              write(`<failed ${SM}><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`);
            } else {
              counting = true;
              handled = 0;
              write(`<enabled ${SM} id='sm-1' resume='true' max='60'/>`);
            }
          } else if (el.startsWith('<resume ')) {
            if (options.refuseResume) {
              write(`<failed ${SM}><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`);
            } else if (options.resumeOtherPrevid) {
              options.resumeOtherPrevid = false;
              write(`<resumed ${SM} previd='sm-nobody' h='0'/>`);
            } else {
              counting = true;
              const lost = options.forgetLast ?? 0;
              handled -= lost;
              state.handledBodies.splice(state.handledBodies.length - lost, lost);
              options.forgetLast = 0;
              write(`<resumed ${SM} previd='sm-1' h='${handled}'/>`);
            }
          } else if (el.startsWith('<r ')) {
            if (options.answerAcks !== false) write(`<a ${SM} h='${handled}'/>`);
          } else if (!el.startsWith('<a ')) {
            if (counting) handled++;
            if (MESSAGE.test(el)) {
              const body = /<body>([^<]*)<\/body>/.exec(el)?.[1] ?? '';
              if (body === options.rejectBody) {
                write(
                  `<message type='error' id='${id}' from='bob@example.org'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
                );
              } else state.handledBodies.push(body);
              const garbage = options.garbage;
              if (garbage && garbage.after === body && state.connections.length === 1) {
                options.garbage = undefined;
                if (garbage.kind === 'xml') write('<message><<not xml at all>>');
                else if (garbage.kind === 'stream-error')
                  write(
                    `<stream:error><quantum-flux xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
                  );
                else write(`<a ${SM} h='${handled + 100}'/>`);
              }
            } else if (el.includes('jabber:iq:roster')) {
              write(`<iq type='result' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
            } else if (el.includes('urn:xmpp:ping')) {
              write(`<iq type='result' id='${id}' from='example.org'/>`);
            }
          }
          for (const w of [...waiters])
            if (count(w.index, w.pattern) >= w.n) {
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

interface Stored extends OutboxItem {
  state: 'queued' | 'sent' | 'acked' | 'failed';
  smSeq: number | null;
  reason: string | null;
}

interface Running {
  session: AccountSession;
  messages: Stored[];
  scopes: ('queued' | 'pending')[];
  online: () => Promise<void>;
  /** Resolves once every message with these ids is 'acked'. */
  acked(ids: string[]): Promise<void>;
  unconfirmable: string[];
  /** The session's log lines. */
  logs: string[];
  add(stanzaId: string, body: string): void;
}

interface Restart {
  /** What the killed process stored (`smStateChanged`). */
  stored: PersistedSmState;
  /** Its messages, as storage kept them: written ('sent') under these counter values. */
  sentSeqs: number[];
  ackedThrough: number[];
  saved: (PersistedSmState | null)[];
}

function session(t: TestContext, port: number, bodies: string[], restart?: Restart): Running {
  const messages: Stored[] = bodies.map((body, i) => ({
    localId: String(i + 1),
    to: 'bob@example.org',
    stanzaId: `m-${i + 1}`,
    body,
    state: restart?.sentSeqs[i] === undefined ? 'queued' : 'sent',
    smSeq: restart?.sentSeqs[i] ?? null,
    reason: null,
  }));
  const scopes: ('queued' | 'pending')[] = [];
  const unconfirmable: string[] = [];
  const logs: string[] = [];
  const onlineWaiters: (() => void)[] = [];
  const ackWaiters: { ids: string[]; resolve: () => void }[] = [];
  const allAcked = (ids: string[]) => ids.every((id) => messages.find((m) => m.stanzaId === id)?.state === 'acked');
  const s = new AccountSession(
    {
      accountId: 'a1',
      jid: 'alice@example.org',
      preference: 'auto',
      resource: 'quiver-1',
      password: async () => 'pw',
      deps: () => loopbackDeps({ tls: port }, 5000),
    },
    sessionCallbacks({
      log: (_level, line) => void logs.push(line),
      status: (status) => {
        if (status === 'online') for (const w of onlineWaiters.splice(0)) w();
      },
      outbox: (scope) => {
        scopes.push(scope);
        return messages.filter(
          (m) => m.state === 'queued' || (scope === 'pending' && m.state === 'sent' && m.smSeq !== null),
        );
      },
      sent: (localId, smSeq) => {
        const m = messages.find((x) => x.localId === localId)!;
        m.state = 'sent';
        m.smSeq = smSeq;
      },
      acked: (ids) => {
        for (const m of messages) if (ids.includes(m.stanzaId) && m.state === 'sent') m.state = 'acked';
        for (const w of [...ackWaiters])
          if (allAcked(w.ids)) {
            ackWaiters.splice(ackWaiters.indexOf(w), 1);
            w.resolve();
          }
      },
      ...(restart
        ? {
            storedSmState: () => restart.stored,
            smStateChanged: (state: PersistedSmState | null) => void restart.saved.push(state),
            ackedThrough: (h: number) => {
              restart.ackedThrough.push(h);
              for (const m of messages) if (m.state === 'sent' && m.smSeq !== null && m.smSeq <= h) m.state = 'acked';
            },
          }
        : {}),
      unconfirmable: (ids) => {
        unconfirmable.push(...ids);
        for (const m of messages) if (ids.includes(m.localId)) m.smSeq = null;
      },
      refused: (stanzaId, from, reason) => {
        assert.equal(from, 'bob@example.org');
        const m = messages.find((x) => x.stanzaId === stanzaId);
        if (m) {
          m.state = 'failed';
          m.reason = reason;
        }
      },
    }),
  );
  t.after(() => s.stop());
  s.start();
  return {
    session: s,
    messages,
    scopes,
    unconfirmable,
    logs,
    online: () => new Promise((resolve) => onlineWaiters.push(resolve)),
    acked: (ids) => (allAcked(ids) ? Promise.resolve() : new Promise((resolve) => ackWaiters.push({ ids, resolve }))),
    add: (stanzaId, body) =>
      messages.push({
        localId: String(messages.length + 1),
        to: 'bob@example.org',
        stanzaId,
        body,
        state: 'queued',
        smSeq: null,
        reason: null,
      }),
  };
}

test(
  'a dropped stream is resumed: no new bind, the server keeps what it handled, the rest is sent again once',
  { timeout: 15_000 },
  async (t) => {
    const options: ServerOptions = { answerAcks: false };
    const server = await fakeServer(t, options);
    const run = session(t, server.port, ['one', 'two', 'three']);
    await server.seen(0, MESSAGE, 3);
    assert.deepEqual(
      run.messages.map((m) => m.state),
      ['sent', 'sent', 'sent'],
    );
    assert.ok(run.messages.every((m) => m.smSeq !== null));
    // The link dies before any ack: the server handled all three, the client does not know.
    const online = run.online();
    options.answerAcks = true;
    server.connections[0]!.socket.destroy();
    await online;
    const second = server.connections[1]!;
    assert.ok(second.seen.some((el) => el.startsWith('<resume ') && /previd=["']sm-1["']/.test(el)));
    assert.ok(!second.seen.some((el) => el.includes('urn:ietf:params:xml:ns:xmpp-bind')), 'no new bind');
    // <resumed h/> acknowledged all three: none is sent again, and all are acked.
    await run.acked(['m-1', 'm-2', 'm-3']);
    assert.equal(second.seen.filter((el) => MESSAGE.test(el)).length, 0);
    assert.deepEqual(server.handledBodies, ['one', 'two', 'three']);
    assert.deepEqual(run.scopes, ['pending', 'queued']);
    // No new roster request or initial presence on a resumed session.
    assert.ok(!second.seen.some((el) => el.includes('jabber:iq:roster') || el.startsWith('<presence')));
  },
);

test(
  'resumed with a lower h: exactly the stanzas the server did not handle are sent again, once',
  { timeout: 15_000 },
  async (t) => {
    const options: ServerOptions = { answerAcks: false };
    const server = await fakeServer(t, options);
    const run = session(t, server.port, ['one', 'two', 'three']);
    await server.seen(0, MESSAGE, 3);
    // The last message was lost with the link: the server did not handle it.
    options.forgetLast = 1;
    options.answerAcks = true;
    const online = run.online();
    server.connections[0]!.socket.destroy();
    await online;
    await run.acked(['m-1', 'm-2', 'm-3']);
    const resent = server.connections[1]!.seen.filter((el) => MESSAGE.test(el));
    assert.equal(resent.length, 1);
    assert.match(resent[0]!, /id=["']m-3["']/);
    assert.deepEqual(server.handledBodies, ['one', 'two', 'three']);
  },
);

test(
  'resumption refused: a new session is bound and every message the server never acknowledged is sent again under its id',
  { timeout: 15_000 },
  async (t) => {
    const options: ServerOptions = { answerAcks: false, refuseResume: true };
    const server = await fakeServer(t, options);
    const run = session(t, server.port, ['one', 'two']);
    await server.seen(0, MESSAGE, 2);
    const online = run.online();
    options.answerAcks = true;
    server.connections[0]!.socket.destroy();
    await online;
    const second = server.connections[1]!;
    await run.acked(['m-1', 'm-2']);
    assert.ok(second.seen.some((el) => el.startsWith('<resume ')));
    assert.ok(
      second.seen.some((el) => el.includes('jabber:iq:roster')),
      'a fresh session asks for the roster',
    );
    const resent = second.seen.filter((el) => MESSAGE.test(el));
    assert.deepEqual(
      resent.map((el) => /\sid=["']([^"']+)["']/.exec(el)![1]),
      ['m-1', 'm-2'],
    );
    assert.ok(
      resent.every((el) => /<origin-id[^>]*id=["']m-[12]["']/.test(el)),
      'the same origin-id too',
    );
    assert.deepEqual(run.scopes, ['pending', 'pending']);
  },
);

test('a stream closed by stop() is not resumed by the next start', { timeout: 15_000 }, async (t) => {
  const server = await fakeServer(t);
  const run = session(t, server.port, ['one']);
  await run.acked(['m-1']);
  await run.session.stop();
  const online = run.online();
  run.session.start();
  await online;
  await server.seen(1, /jabber:iq:roster/);
  assert.ok(!server.connections[1]!.seen.some((el) => el.startsWith('<resume ')));
  assert.deepEqual(server.handledBodies, ['one']);
});

test(
  'stream management refused: messages written while it was being enabled are reported unconfirmable, never resent',
  { timeout: 15_000 },
  async (t) => {
    const server = await fakeServer(t, { refuseEnable: true });
    const run = session(t, server.port, ['one', 'two']);
    await server.seen(0, MESSAGE, 2);
    assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
    assert.deepEqual(run.unconfirmable, ['1', '2']);
    assert.deepEqual(
      run.messages.map((m) => [m.state, m.smSeq]),
      [
        ['sent', null],
        ['sent', null],
      ],
    );
    // A later drop: the fresh session sends nothing again.
    const online = run.online();
    server.connections[0]!.socket.destroy();
    await online;
    await server.seen(1, /jabber:iq:roster/);
    assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
    assert.equal(server.connections[1]!.seen.filter((el) => MESSAGE.test(el)).length, 0);
  },
);

test(
  'a message the server answers with an error is reported refused, with the reason',
  { timeout: 15_000 },
  async (t) => {
    const server = await fakeServer(t, { rejectBody: 'nope' });
    const run = session(t, server.port, ['fine', 'nope']);
    await run.acked(['m-1']);
    assert.equal((await run.session.checkAlive(5000)).outcome, 'alive');
    const refused = run.messages.find((m) => m.stanzaId === 'm-2')!;
    assert.equal(refused.state, 'failed');
    assert.match(refused.reason!, /bob@example\.org refused it: service unavailable/);
  },
);

test(
  'after a crash: the stream the killed process stored is resumed, the server h confirms what it got, the rest goes again once',
  { timeout: 15_000 },
  async (t) => {
    // The killed process had written roster, presence and three messages (counters 1..5) and the
    // server handled four of them: messages m-1 and m-2 arrived, m-3 did not.
    const server = await fakeServer(t, { handledBefore: 4 });
    const restart: Restart = {
      stored: {
        id: 'sm-1',
        jid: 'alice@example.org/quiver-1',
        inboundH: 0,
        outboundH: 0,
        location: null,
        max: 60,
        savedAt: Date.now() - 1000,
      },
      sentSeqs: [3, 4, 5],
      ackedThrough: [],
      saved: [],
    };
    const run = session(t, server.port, ['one', 'two', 'three'], restart);
    await run.acked(['m-1', 'm-2', 'm-3']);
    const connection = server.connections[0]!;
    assert.ok(connection.seen.some((el) => el.startsWith('<resume ') && /previd=["']sm-1["']/.test(el)));
    assert.ok(!connection.seen.some((el) => el.includes('urn:ietf:params:xml:ns:xmpp-bind')), 'no new bind');
    assert.deepEqual(restart.ackedThrough, [4]);
    const written = connection.seen.filter((el) => MESSAGE.test(el));
    assert.equal(written.length, 1, written.join('\n'));
    assert.match(written[0]!, /id=["']m-3["']/);
    assert.deepEqual(server.handledBodies, ['three']);
    // The resumed stream is stored again for the next crash.
    assert.equal(restart.saved.at(-1)?.id, 'sm-1');
  },
);

test(
  'after a crash, a stored state past the server time is not tried: a fresh login sends every unacknowledged message',
  { timeout: 15_000 },
  async (t) => {
    const server = await fakeServer(t);
    const restart: Restart = {
      stored: {
        id: 'sm-1',
        jid: 'alice@example.org/quiver-1',
        inboundH: 0,
        outboundH: 0,
        location: null,
        max: 60,
        savedAt: Date.now() - 120_000,
      },
      sentSeqs: [3, 4],
      ackedThrough: [],
      saved: [],
    };
    const run = session(t, server.port, ['one', 'two'], restart);
    await run.acked(['m-1', 'm-2']);
    assert.ok(!server.connections[0]!.seen.some((el) => el.startsWith('<resume ')));
    assert.equal(restart.saved[0], null, 'the stale state is cleared');
    assert.deepEqual(server.handledBodies, ['one', 'two']);
  },
);

test('an idle stream is pinged; when nothing answers it is dropped and resumed', { timeout: 15_000 }, async (t) => {
  const options: ServerOptions = {};
  const server = await fakeServer(t, options);
  const s = new AccountSession(
    {
      accountId: 'a1',
      jid: 'alice@example.org',
      preference: 'auto',
      resource: 'quiver-1',
      idlePingMs: 300,
      password: async () => 'pw',
      deps: () => loopbackDeps({ tls: server.port }, 5000),
    },
    sessionCallbacks(),
  );
  t.after(() => s.stop());
  s.start();
  // The server answers the first idle pings: the stream stays.
  await server.seen(0, /urn:xmpp:ping/, 2);
  assert.equal(server.connections.length, 1);
  const pings = server.connections[0]!.seen.filter((el) => el.includes('urn:xmpp:ping')).length;
  assert.ok(pings >= 2);
  // Now it goes silent (a NAT dropped the mapping): the next idle ping gets nothing back.
  server.connections[0]!.socket.pause();
  await server.seen(1, /^<resume /);
  assert.equal(server.connections.length, 2, 'connected again, resuming the session');
});

for (const kind of ['xml', 'stream-error', 'ack-too-high'] as const) {
  test(
    `garbage from the server mid-stream (${kind}): a clear error, a reconnect, every message stored by the server`,
    { timeout: 15_000 },
    async (t) => {
      const server = await fakeServer(t, { garbage: { after: 'two', kind } });
      const run = session(t, server.port, ['one', 'two', 'three', 'four']);
      await run.acked(['m-1', 'm-2', 'm-3', 'm-4']);
      assert.ok(server.connections.length >= 2, 'connected again');
      for (const body of ['one', 'two', 'three', 'four']) assert.ok(server.handledBodies.includes(body), body);
      const second = server.connections[1]!;
      // Resumed, or (after a server that misused stream management) a fresh session: roster asked.
      assert.ok(second.seen.some((el) => el.startsWith('<resume ') || el.includes('jabber:iq:roster')));
      // What went wrong is said in words.
      const said = run.logs.join('\n');
      assert.match(
        said,
        {
          xml: /not well-formed|XML/i,
          'stream-error': /quantum-flux|stream error|server/i,
          'ack-too-high': /acknowledged 10\d stanzas/,
        }[kind],
        said,
      );
    },
  );
}

test(
  'a resumption answer for a stream that does not exist: refused, then a fresh login sends what was not acknowledged',
  { timeout: 15_000 },
  async (t) => {
    const options: ServerOptions = { answerAcks: false };
    const server = await fakeServer(t, options);
    const run = session(t, server.port, ['one', 'two']);
    await server.seen(0, MESSAGE, 2);
    options.resumeOtherPrevid = true;
    options.answerAcks = true;
    server.connections[0]!.socket.destroy();
    await run.acked(['m-1', 'm-2']);
    // Connection 2 got the bogus <resumed/> and was ended; connection 3 logged in afresh.
    const fresh = server.connections.at(-1)!;
    assert.ok(server.connections.length >= 3, `${server.connections.length} connections`);
    assert.ok(
      fresh.seen.some((el) => el.includes('jabber:iq:roster')),
      'a new session (it asks for the roster)',
    );
    assert.ok(!fresh.seen.some((el) => el.startsWith('<resume ')), 'no second try at the misused session');
    assert.deepEqual(
      fresh.seen.filter((el) => MESSAGE.test(el)).map((el) => /\sid=["']([^"']+)["']/.exec(el)![1]),
      ['m-1', 'm-2'],
    );
  },
);
