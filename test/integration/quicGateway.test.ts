/**
 * XMPP over QUIC (XEP-0467) end to end: Quiver's QUIC client, through the lab's `quiver gateway`,
 * to the lab's real Prosody. Two accounts log in (SCRAM) on two streams of ONE QUIC connection and
 * exchange messages; then the connection closes without an XMPP close, and a third session (on
 * another QUIC connection) sees both accounts go unavailable: the gateway ended both backend
 * connections, so Prosody ended the sessions.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { QuicEndpoint } from '../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle } from '../../app/quic/driver/quicConnectionHandle.ts';
import { QuicStreamTransport } from '../../app/transport/quicStreamTransport.ts';
import { StreamDriver } from '../../app/connect/streamDriver.ts';
import { ClientStreamMachine } from '../../app/xmpp/streamMachine.ts';
import type { StreamEvent } from '../../app/xmpp/streamEvent.ts';
import { labFromEnv, type LabState } from '../support/lab.ts';
import { streamFeatures } from '../lab/streamProbe.ts';

const WAIT_MS = 15_000;

/**
 * Collects a stream's events; `next` waits (bounded) for the first one not yet taken that matches.
 * `ended` rejects once the stream reports an error or its close, so a wait can race it.
 */
class EventLog {
  readonly #events: StreamEvent[] = [];
  readonly #waiters = new Set<{ match: (e: StreamEvent) => boolean; resolve: (e: StreamEvent) => void }>();
  #end: (error: Error) => void = () => undefined;
  readonly ended = new Promise<never>((_, reject) => {
    this.#end = reject;
  });

  constructor() {
    // Only a wait that races it reports the end; an unobserved end is not a failure.
    this.ended.catch(() => undefined);
  }

  readonly push = (event: StreamEvent): void => {
    if (event.type === 'error' || event.type === 'closed')
      this.#end(new Error(`the XMPP stream ended: ${event.error?.message ?? 'closed'}`));
    for (const w of this.#waiters) {
      if (w.match(event)) {
        this.#waiters.delete(w);
        w.resolve(event);
        return;
      }
    }
    this.#events.push(event);
  };

  next<T extends StreamEvent>(what: string, match: (e: StreamEvent) => e is T, timeoutMs = WAIT_MS): Promise<T> {
    const i = this.#events.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#events.splice(i, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: StreamEvent) => {
          clearTimeout(timer);
          resolve(e as T);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const seen = this.#events.map((e) => e.type).join(', ') || 'none';
        reject(new Error(`no ${what} within ${timeoutMs} ms (events not taken: ${seen})`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** `next`, failing at once if the stream ends first. */
  expect<T extends StreamEvent>(what: string, match: (e: StreamEvent) => e is T, timeoutMs = WAIT_MS): Promise<T> {
    return Promise.race([this.next(what, match, timeoutMs), this.ended]);
  }
}

const isType =
  <K extends StreamEvent['type']>(type: K) =>
  (e: StreamEvent): e is Extract<StreamEvent, { type: K }> =>
    e.type === type;

/**
 * One QUIC connection to the lab's gateway: ALPN xmpp-client, SNI = the domain. The chain is
 * accepted only when its leaf names the domain (RFC 6125 DNS-ID), is within its validity and is
 * signed by the lab's root CA.
 */
async function connectGateway(endpoint: QuicEndpoint, lab: LabState, domain: string): Promise<QuicConnectionHandle> {
  const handle = endpoint.connect({
    serverName: domain,
    alpn: ['xmpp-client'],
    remoteAddress: { address: lab.gateway.address, port: lab.gateway.port },
    // XEP-0467 as issue 11 reads it: the server may open no streams.
    transportParams: { initialMaxStreamsBidi: 0, initialMaxStreamsUni: 0 },
  });
  handle.on('peer-certificate', (chain: Uint8Array[]) => {
    const ca = new X509Certificate(lab.caPem);
    const leaf = chain[0] ? new X509Certificate(chain[0]) : null;
    const now = Date.now();
    const ok =
      leaf !== null &&
      leaf.checkHost(domain, { subject: 'never', wildcards: false }) === domain &&
      Date.parse(leaf.validFrom) <= now &&
      now <= Date.parse(leaf.validTo) &&
      leaf.checkIssued(ca) &&
      leaf.verify(ca.publicKey);
    if (ok) handle.acceptPeer();
    else handle.rejectPeer('not the lab CA certificate for ' + domain);
  });
  const { alpn } = await handle.established;
  assert.equal(alpn, 'xmpp-client');
  return handle;
}

interface XmppStream {
  driver: StreamDriver;
  log: EventLog;
  transport: QuicStreamTransport;
}

/**
 * Opens a bidirectional stream on `handle` and starts an XMPP stream over it. The QUIC handshake
 * is the TLS layer (XEP-0467), so the machine starts with TLS up and no channel binding.
 */
function openXmpp(
  handle: QuicConnectionHandle,
  options: { goal: 'session'; jid: string; password: string; resource: string } | { goal: 'features'; jid: string },
): XmppStream {
  const stream = handle.openStream(true);
  assert.ok(stream, 'the gateway allows a further bidirectional stream');
  const transport = new QuicStreamTransport(stream, `quic gateway stream ${stream.id}`);
  const log = new EventLog();
  const machine = new ClientStreamMachine({ ...options, security: 'tls', channelBinding: null });
  const driver = new StreamDriver(machine, transport, log.push);
  driver.start();
  return { driver, log, transport };
}

/** Logs in and binds; hands later events to the log and sends the initial presence. */
async function online(s: XmppStream): Promise<{ jid: string; mechanism: string }> {
  const authenticated = await s.log.expect('authentication', isType('authenticated'));
  const bound = await s.log.expect('resource binding', isType('online'));
  // Releases what the driver held since 'online' (StreamDriver.setEventHandler).
  s.driver.setEventHandler(s.log.push);
  s.driver.sendPresence();
  return { jid: bound.jid, mechanism: authenticated.mechanism };
}

function presenceOf(log: EventLog, from: string, type: 'available' | 'unavailable', timeoutMs = WAIT_MS) {
  return log.expect(
    `${type} presence from ${from}`,
    (e): e is Extract<StreamEvent, { type: 'presence' }> =>
      e.type === 'presence' && e.from === from && e.presenceType === type,
    timeoutMs,
  );
}

function messageFrom(log: EventLog, from: string) {
  return log.expect(
    `a message from ${from}`,
    (e): e is Extract<StreamEvent, { type: 'message' }> => e.type === 'message' && e.from === from && e.body !== null,
  );
}

describe('quiver gateway in front of the lab Prosody (XEP-0467)', () => {
  const lab = labFromEnv();
  const domain = lab.gateway.domain;
  const alice = `alice@${domain}`;
  const bob = `bob@${domain}`;
  let endpoint: QuicEndpoint;
  const handles: QuicConnectionHandle[] = [];

  before(async () => {
    endpoint = await QuicEndpoint.bind({ address: '127.0.0.1', port: 0 });
  });
  after(async () => {
    for (const h of handles) h.close(0, 'test done');
    await endpoint.close();
  });

  it('offers SASL and no STARTTLS over QUIC', async () => {
    const handle = await connectGateway(endpoint, lab, domain);
    handles.push(handle);
    const s = openXmpp(handle, { goal: 'features', jid: domain });
    const { features } = await s.log.expect('stream features', isType('features'));
    // XEP-0467 (issue 11): "never STARTTLS over QUIC".
    assert.equal(features.starttls, false, 'STARTTLS must not be offered over QUIC');
    assert.ok(features.mechanisms.includes('SCRAM-SHA-1'), `SCRAM offered (got ${features.mechanisms.join(' ')})`);
    s.driver.destroy();
  });

  it("leaves Prosody's STARTTLS port as it was: STARTTLS required, no SASL before it", async () => {
    const features = await streamFeatures(lab.prosody.starttlsPort, domain, 2000);
    assert.match(features, /<starttls[^>]*>\s*<required\s*\/>/);
    assert.doesNotMatch(features, /<mechanisms/);
  });

  it('two accounts on two streams of one QUIC connection log in, exchange messages, and end when it closes', async () => {
    // The observer: alice on a QUIC connection of her own. She sees her other resource's presence
    // (RFC 6121 §4.2.2) and bob's (mutual subscription in the lab's rosters).
    const observerHandle = await connectGateway(endpoint, lab, domain);
    handles.push(observerHandle);
    const observer = openXmpp(observerHandle, {
      goal: 'session',
      jid: alice,
      password: lab.users[alice]!,
      resource: 'observer',
    });
    await online(observer);

    const shared = await connectGateway(endpoint, lab, domain);
    handles.push(shared);
    const a = openXmpp(shared, { goal: 'session', jid: alice, password: lab.users[alice]!, resource: 'quic' });
    const b = openXmpp(shared, { goal: 'session', jid: bob, password: lab.users[bob]!, resource: 'quic' });
    assert.notEqual(a.transport.stream.id, b.transport.stream.id);
    const [aliceOnline, bobOnline] = await Promise.all([online(a), online(b)]);
    assert.match(aliceOnline.mechanism, /^SCRAM-SHA-(1|256)$/);
    assert.match(bobOnline.mechanism, /^SCRAM-SHA-(1|256)$/);
    assert.equal(aliceOnline.jid.split('/')[0], alice);
    assert.equal(bobOnline.jid.split('/')[0], bob);

    await Promise.all([
      presenceOf(observer.log, aliceOnline.jid, 'available'),
      presenceOf(observer.log, bobOnline.jid, 'available'),
    ]);

    const toBob = messageFrom(b.log, aliceOnline.jid);
    a.driver.sendMessage({ to: bobOnline.jid, body: 'over QUIC, stream one', type: 'chat' });
    assert.equal((await toBob).body, 'over QUIC, stream one');
    const toAlice = messageFrom(a.log, bobOnline.jid);
    b.driver.sendMessage({ to: aliceOnline.jid, body: 'over QUIC, stream two', type: 'chat' });
    assert.equal((await toAlice).body, 'over QUIC, stream two');

    // No XMPP close: only the QUIC connection ends. Prosody can learn of it only from the gateway
    // closing both backend connections, well before any idle or ping timeout of its own.
    const gone = Promise.all([
      presenceOf(observer.log, aliceOnline.jid, 'unavailable', 5_000),
      presenceOf(observer.log, bobOnline.jid, 'unavailable', 5_000),
    ]);
    shared.close(1, 'test: client gone');
    await gone;
    observer.driver.close();
  });
});
