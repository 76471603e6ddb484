/**
 * XMPP over QUIC for accounts (issue 11 "Tests"), through the connector (`establish`) with one
 * shared QUIC session pool, the lab's gateways and its real Prosody: two, then six accounts on one
 * session (quic-a.test and quic-b.test, whose gateway certificate names both) and quic-solo.test
 * on a connection of its own, with messages between them; one account's stream reset by the
 * server while the others go on; a server that refuses further streams (a connection of its own,
 * then TCP, the reason recorded); UDP blocked (TCP after the head start, the next start straight
 * to TCP); the records as stored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { establish, type ConnectDeps, type TransportMemoryAdvisor } from '../../app/connect/connector.ts';
import { buildConnectDeps } from '../../app/connect/connectDeps.ts';
import { QuicSessions } from '../../app/connect/quicSessions.ts';
import { networkKey, TransportMemory } from '../../app/connect/transportMemory.ts';
import type { StreamDriver } from '../../app/connect/streamDriver.ts';
import type { SrvResolver } from '../../app/connect/discovery.ts';
import type { SecurityRecord, TransportPreference } from '../../app/contract/viewModels.ts';
import type { StreamEvent } from '../../app/xmpp/streamEvent.ts';
import { QuicGateway, type GatewayLimits } from '../../app/gateway/quicGateway.ts';
import { openProfile } from '../../app/storage/openProfile.ts';
import type { Storage } from '../../app/storage/storage.ts';
import { labFromEnv, labGatewayOptions } from '../support/lab.ts';

const lab = labFromEnv();
const WAIT_MS = 15_000;

type MessageEvent = Extract<StreamEvent, { type: 'message' }>;

/** One logged-in account: its stream, record, and what arrived on it since login. */
interface Account {
  jid: string;
  boundJid: string;
  driver: StreamDriver;
  record: SecurityRecord;
  /** Resolves with the close event once the stream has ended (the server's reset, our close). */
  ended: Promise<Extract<StreamEvent, { type: 'closed' }>>;
  /** Waits (bounded) for a message with this body; rejects at once if the stream ends first. */
  message(body: string): Promise<MessageEvent>;
}

/** Every record the connector saved, latest version by id. */
class Records {
  readonly byId = new Map<string, SecurityRecord>();
  readonly save = (record: SecurityRecord): void => void this.byId.set(record.id, structuredClone(record));
}

/**
 * Connector deps for the lab: its resolver and CA, the pool, and optionally an SRV answer of our
 * own for `_xmppq-client._udp.<domain>` (a gateway of the test's own), the transport memory and
 * the QUIC head start.
 */
function depsFor(
  pool: QuicSessions,
  saveRecord: (record: SecurityRecord) => void,
  options: {
    quicSrv?: { domain: string; port: number };
    memory?: TransportMemoryAdvisor;
    headStartMs?: number;
  } = {},
): ConnectDeps {
  const deps = buildConnectDeps(
    { resolver: lab.resolver, resolverValidates: false, extraCaPem: lab.caPem, transport: 'auto' },
    { resolver: null, extraCaPem: null },
    saveRecord,
    { quic: pool, transportMemory: options.memory ?? null, posh: false },
  );
  const { quicSrv } = options;
  const dns: SrvResolver = quicSrv
    ? {
        srv: (name) =>
          name.replace(/\.$/, '') === `_xmppq-client._udp.${quicSrv.domain}`
            ? Promise.resolve({
                rcode: 'NOERROR',
                records: [{ priority: 0, weight: 0, port: quicSrv.port, target: `xmpp.${quicSrv.domain}` }],
                dnssec: 'insecure' as const,
              })
            : deps.dns.srv(name),
      }
    : deps.dns;
  return { ...deps, dns, ...(options.headStartMs === undefined ? {} : { quicHeadStartMs: options.headStartMs }) };
}

/** Logs `jid` in through `establish` and takes its stream's later events. */
async function login(
  jid: string,
  deps: ConnectDeps,
  preference: TransportPreference,
  opened: StreamDriver[],
): Promise<Account> {
  const password = lab.users[jid];
  assert.ok(password, `the lab has a password for ${jid}`);
  const { driver, record, boundJid } = await establish({ jid, password, preference, accountId: null }, deps);
  opened.push(driver);
  const messages: MessageEvent[] = [];
  const waiters = new Set<(m: MessageEvent) => boolean>();
  let closed: (event: Extract<StreamEvent, { type: 'closed' }>) => void = () => undefined;
  const ended = new Promise<Extract<StreamEvent, { type: 'closed' }>>((resolve) => (closed = resolve));
  driver.setEventHandler((event) => {
    if (event.type === 'closed') closed(event);
    if (event.type !== 'message' || event.body === null) return;
    for (const w of waiters) if (w(event)) return;
    messages.push(event);
  });
  const message = (body: string): Promise<MessageEvent> => {
    const seen = messages.find((m) => m.body === body);
    if (seen) return Promise.resolve(seen);
    return new Promise<MessageEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(take);
        reject(new Error(`${jid} got no message "${body}" within ${WAIT_MS} ms`));
      }, WAIT_MS);
      const take = (m: MessageEvent): boolean => {
        if (m.body !== body) return false;
        clearTimeout(timer);
        waiters.delete(take);
        resolve(m);
        return true;
      };
      waiters.add(take);
      void ended.then((e) => {
        clearTimeout(timer);
        waiters.delete(take);
        reject(new Error(`${jid}'s stream ended before "${body}" arrived: ${e.error?.message ?? 'closed'}`));
      });
    });
  };
  return { jid, boundJid, driver, record, ended, message };
}

let sequence = 0;

/** A message each way between `a` and `b`, to each other's full JID; both must arrive once. */
async function exchange(a: Account, b: Account): Promise<void> {
  const there = `${a.jid} to ${b.jid} #${++sequence}`;
  const back = `${b.jid} to ${a.jid} #${++sequence}`;
  const arrived = b.message(there);
  a.driver.sendMessage({ to: b.boundJid, body: there, type: 'chat' });
  const returned = a.message(back);
  b.driver.sendMessage({ to: a.boundJid, body: back, type: 'chat' });
  const [m1, m2] = await Promise.all([arrived, returned]);
  assert.equal(m1.from, a.boundJid);
  assert.equal(m2.from, b.boundJid);
}

/** Destroys every driver, then closes the pool. */
async function cleanUp(drivers: StreamDriver[], pool: QuicSessions): Promise<void> {
  for (const d of drivers.splice(0)) d.destroy();
  await pool.close();
}

/** A gateway of the test's own in front of the lab's Prosody (or of `forwardPort`), with `limits`. */
function ownGateway(limits: Partial<GatewayLimits>, forwardPort?: number): Promise<QuicGateway> {
  const options = labGatewayOptions(lab);
  return QuicGateway.start({
    listen: { address: '127.0.0.1', port: 0 },
    ...options,
    ...(forwardPort === undefined ? {} : { forward: { host: '127.0.0.1', port: forwardPort } }),
    limits,
    log: () => undefined,
  });
}

describe('accounts over one shared QUIC session (lab gateway)', () => {
  const drivers: StreamDriver[] = [];
  let pool: QuicSessions;
  before(() => {
    pool = new QuicSessions();
  });
  after(() => cleanUp(drivers, pool));

  test('two accounts share one QUIC connection (one handshake) and exchange messages both ways', async () => {
    const records = new Records();
    const deps = depsFor(pool, records.save);
    const alice = await login('alice@quic-a.test', deps, 'quic', drivers);
    const bob = await login('bob@quic-a.test', deps, 'quic', drivers);
    for (const a of [alice, bob]) {
      assert.equal(a.record.transport, 'quic');
      assert.equal(a.record.verification.trusted, true);
      assert.equal(a.record.alpn, 'xmpp-client');
      assert.equal(a.record.sni, 'quic-a.test');
      assert.equal(a.record.fallback, null);
    }
    assert.ok(alice.record.quicConnectionId);
    assert.equal(bob.record.quicConnectionId, alice.record.quicConnectionId);
    assert.notEqual(bob.record.quicStreamId, alice.record.quicStreamId);
    assert.equal(bob.record.quic?.sharedWith, 1);
    assert.equal(pool.stats().connections, 1, 'one QUIC handshake for both accounts');
    assert.equal(pool.stats().streams, 2);
    await exchange(alice, bob);
  });
});

describe('six accounts of two domains on one session, a third domain on its own', () => {
  const drivers: StreamDriver[] = [];
  let pool: QuicSessions;
  before(() => {
    pool = new QuicSessions();
  });
  after(() => cleanUp(drivers, pool));

  test('quic-a (5) and quic-b (1) share one connection; quic-solo gets its own; messages between them', async () => {
    const records = new Records();
    const deps = depsFor(pool, records.save);
    const jids = ['alice', 'bob', 'carol', 'dave', 'erin'].map((u) => `${u}@quic-a.test`).concat('frank@quic-b.test');
    // All at once, as the app starts its accounts: the first opens the connection, the others join it.
    const shared = await Promise.all(jids.map((jid) => login(jid, deps, 'quic', drivers)));
    const solo = await login('olga@quic-solo.test', deps, 'quic', drivers);

    const id = shared[0]!.record.quicConnectionId;
    assert.ok(id);
    for (const a of shared) {
      assert.equal(a.record.transport, 'quic', a.jid);
      assert.equal(a.record.quicConnectionId, id, `${a.jid} rides the shared connection`);
      assert.equal(a.record.fallback, null, a.jid);
      assert.equal(a.record.verification.trusted, true, a.jid);
    }
    assert.equal(new Set(shared.map((a) => a.record.quicStreamId)).size, shared.length, 'one stream each');
    // One handshake, so one SNI on the wire (whichever account opened it); quic-b's account
    // verified that connection's certificate against its own domain before its stream opened.
    assert.equal(new Set(shared.map((a) => a.record.sni)).size, 1);
    const frank = shared.at(-1)!;
    assert.equal(frank.record.jid, 'frank@quic-b.test');
    assert.match(frank.record.verification.identity ?? '', /quic-b\.test/);

    assert.equal(solo.record.transport, 'quic');
    assert.ok(solo.record.quicConnectionId);
    assert.notEqual(solo.record.quicConnectionId, id, 'quic-solo.test is not covered by the shared certificate');
    assert.equal(solo.record.quic?.sharedWith, 0);
    assert.deepEqual(pool.stats(), { endpoints: 1, connections: 2, streams: 7 });

    const [alice, bob, carol, dave, erin] = shared as [Account, Account, Account, Account, Account];
    await Promise.all([
      exchange(alice, bob),
      exchange(carol, frank),
      exchange(dave, solo),
      exchange(erin, alice),
      exchange(frank, solo),
    ]);
  });
});

/**
 * A TCP relay between a gateway of the test's own and the lab's Prosody, so the test can break one
 * stream's server connection the way a server does (a TCP reset): the gateway then resets that
 * QUIC stream (streamBridge.ts: "backend error (refused, reset) -> RESET_STREAM and STOP_SENDING").
 */
class BackendRelay {
  readonly server: Server;
  /** The gateway's side of each relayed connection, in the order the gateway opened them. */
  readonly inbound: Socket[] = [];

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(backendPort: number): Promise<BackendRelay> {
    const server = createServer();
    const relay = new BackendRelay(server);
    server.on('connection', (socket) => {
      relay.inbound.push(socket);
      const upstream = connect(backendPort, '127.0.0.1');
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.on('error', () => upstream.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
      upstream.on('close', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const s of this.inbound) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("one account's stream reset by the server", () => {
  const drivers: StreamDriver[] = [];
  let pool: QuicSessions;
  let relay: BackendRelay;
  let gateway: QuicGateway;
  before(async () => {
    pool = new QuicSessions();
    relay = await BackendRelay.start(lab.gateway.backendPort);
    // Two streams per connection: the third account can join only once the reset stream's credit returns.
    gateway = await ownGateway({ maxStreamsPerConnection: 2 }, relay.port);
  });
  after(async () => {
    await cleanUp(drivers, pool);
    await gateway.close();
    await relay.close();
  });

  test('ends that account alone; the others go on, and its stream credit comes back', async () => {
    const records = new Records();
    const deps = depsFor(pool, records.save, { quicSrv: { domain: 'quic-a.test', port: gateway.address.port } });
    const alice = await login('alice@quic-a.test', deps, 'quic', drivers);
    const bob = await login('bob@quic-a.test', deps, 'quic', drivers);
    assert.equal(bob.record.quicConnectionId, alice.record.quicConnectionId);
    assert.equal(relay.inbound.length, 2, "one server connection per stream, alice's first");
    await exchange(alice, bob);

    relay.inbound[0]!.resetAndDestroy();
    const closed = await alice.ended;
    assert.ok(closed.error, "alice's stream ends with an error, not as an orderly close");

    // bob goes on, on the same session.
    assert.equal(pool.stats().connections, 1);
    const carol = await login('carol@quic-a.test', deps, 'quic', drivers);
    assert.equal(
      carol.record.quicConnectionId,
      alice.record.quicConnectionId,
      `carol joins the same session: the reset stream returned its credit (fallback: ${carol.record.fallback})`,
    );
    assert.equal(carol.record.fallback, null);
    assert.equal(pool.stats().streams, 2);
    await exchange(bob, carol);
  });
});

describe('a server that refuses further streams', () => {
  const drivers: StreamDriver[] = [];
  const gateways: QuicGateway[] = [];
  let pool: QuicSessions;
  before(() => {
    pool = new QuicSessions();
  });
  after(async () => {
    await cleanUp(drivers, pool);
    for (const g of gateways) await g.close();
  });

  test('one stream per connection: the second account gets a QUIC connection of its own, the reason recorded', async () => {
    const gateway = await ownGateway({ maxStreamsPerConnection: 1 });
    gateways.push(gateway);
    const records = new Records();
    // A long head start: QUIC (not a loaded machine's TCP) must carry alice for the test to mean anything.
    const deps = depsFor(pool, records.save, {
      quicSrv: { domain: 'quic-a.test', port: gateway.address.port },
      headStartMs: 5000,
    });
    const alice = await login('alice@quic-a.test', deps, 'auto', drivers);
    assert.equal(alice.record.transport, 'quic');
    const bob = await login('bob@quic-a.test', deps, 'auto', drivers);
    assert.equal(
      bob.record.transport,
      'quic',
      `bob's record: ${bob.record.transport}, fallback: ${bob.record.fallback}`,
    );
    assert.ok(bob.record.quicConnectionId);
    assert.notEqual(bob.record.quicConnectionId, alice.record.quicConnectionId);
    assert.match(bob.record.fallback ?? '', /refused this account a stream.*connection of its own/);
    assert.equal(records.byId.get(bob.record.id)?.fallback, bob.record.fallback, 'the fallback is saved');
    const refused = [...records.byId.values()].filter((r) => r.jid === bob.jid && r.id !== bob.record.id);
    assert.ok(
      refused.every((r) => r.endedAt !== null && r.endReason),
      `the record of bob's refused attempt is ended with a reason: ${JSON.stringify(refused.map((r) => r.endReason))}`,
    );
    assert.equal(pool.stats().connections, 2);
    await exchange(alice, bob);
  });

  test('no stream and no further connection: the second account ends on TCP, the reason recorded', async () => {
    const gateway = await ownGateway({ maxStreamsPerConnection: 1, maxConnections: 1 });
    gateways.push(gateway);
    const records = new Records();
    const deps = depsFor(pool, records.save, {
      quicSrv: { domain: 'quic-a.test', port: gateway.address.port },
      headStartMs: 5000,
    });
    const alice = await login('alice@quic-a.test', deps, 'auto', drivers);
    assert.equal(alice.record.transport, 'quic');
    const bob = await login('bob@quic-a.test', deps, 'auto', drivers);
    assert.notEqual(bob.record.transport, 'quic');
    assert.equal(bob.record.quicConnectionId, null);
    assert.match(bob.record.fallback ?? '', /^XMPP over QUIC failed: ./);
    assert.equal(records.byId.get(bob.record.id)?.fallback, bob.record.fallback, 'the fallback is saved');
    await exchange(alice, bob);
  });
});

describe('UDP blocked', () => {
  const drivers: StreamDriver[] = [];
  let pool: QuicSessions;
  let dataDir: string;
  let storage: Storage;
  before(() => {
    pool = new QuicSessions();
    dataDir = mkdtempSync(join(tmpdir(), 'quiver-quic-memory-'));
    storage = openProfile(dataDir);
  });
  after(async () => {
    await cleanUp(drivers, pool);
    storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('TCP wins after the head start, and the next start goes straight to TCP', async () => {
    const storeErrors: unknown[] = [];
    const memory = new TransportMemory(storage, { onStoreError: (error) => storeErrors.push(error) });
    const network = networkKey({
      addresses: [{ ifname: 'lab0', family: 'IPv4', address: '192.0.2.10', prefixLength: 24 }],
      defaultRouteInterfaces: ['lab0'],
      defaultGateways: ['192.0.2.1'],
    });
    assert.ok(network);
    const advisor: TransportMemoryAdvisor = {
      advice: (domain) => memory.advice(network, domain, Date.now()),
      record: (domain, outcome) => memory.record(network, domain, outcome, Date.now()),
    };
    let quicAttempts = 0;
    const acquire = pool.acquire.bind(pool);
    pool.acquire = (target, options) => {
      quicAttempts++;
      return acquire(target, options);
    };
    const records = new Records();
    // A head start far above what a TCP login takes here, so "did not wait for it" is measurable.
    const headStartMs = 3000;
    const deps = depsFor(pool, records.save, { memory: advisor, headStartMs });
    const jid = 'ursula@udp-blocked.test';

    const firstStart = Date.now();
    const first = await login(jid, deps, 'auto', drivers);
    assert.notEqual(first.record.transport, 'quic');
    assert.ok(quicAttempts >= 1, 'QUIC was tried first');
    assert.ok(
      first.record.startedAt - firstStart >= headStartMs,
      `TCP started only after the head start (${first.record.startedAt - firstStart} ms)`,
    );
    assert.match(first.record.fallback ?? '', /QUIC was tried first and TCP won/);
    assert.equal(records.byId.get(first.record.id)?.fallback, first.record.fallback, 'the fallback is saved');
    assert.deepEqual(storeErrors, []);
    assert.equal(advisor.advice('udp-blocked.test'), 'tcp-first', 'the failure is remembered');
    first.driver.close();
    await first.ended;

    const secondStart = Date.now();
    const second = await login(jid, deps, 'auto', drivers);
    const took = Date.now() - secondStart;
    assert.notEqual(second.record.transport, 'quic');
    assert.ok(took < headStartMs, `the second login did not wait for the head start (${took} ms)`);
    assert.match(second.record.fallback ?? '', /went straight to TCP/);
    assert.deepEqual(storeErrors, []);
  });
});

describe('stored records', () => {
  const drivers: StreamDriver[] = [];
  let pool: QuicSessions;
  let dataDir: string;
  before(() => {
    pool = new QuicSessions();
    dataDir = mkdtempSync(join(tmpdir(), 'quiver-quic-records-'));
  });
  after(async () => {
    await cleanUp(drivers, pool);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('carry quicConnectionId, the QUIC facts and the fallback after a reload', async () => {
    let storage = openProfile(dataDir);
    const deps = depsFor(pool, (record) => void storage.saveConnection(record));
    const alice = await login('alice@quic-a.test', deps, 'quic', drivers);
    const bob = await login('bob@quic-a.test', deps, 'quic', drivers);
    const ursula = await login('ursula@udp-blocked.test', deps, 'auto', drivers);
    storage.close();

    storage = openProfile(dataDir);
    try {
      for (const account of [alice, bob]) {
        const stored = storage.getConnection(account.record.id);
        assert.ok(stored, `${account.jid}'s record is stored`);
        assert.equal(stored.transport, 'quic');
        assert.equal(stored.quicConnectionId, alice.record.quicConnectionId);
        assert.equal(stored.quicStreamId, account.record.quicStreamId);
        assert.deepEqual(stored.quic, account.record.quic);
        assert.equal(stored.quic?.version, 'QUIC v1');
        assert.equal(stored.quic?.ech, 'not available');
        assert.ok((stored.quic?.pathMtu ?? 0) >= 1200);
        assert.equal(stored.boundJid, account.boundJid);
        assert.equal(stored.fallback, null);
      }
      assert.equal(storage.getConnection(bob.record.id)?.quic?.sharedWith, 1);
      const fellBack = storage.getConnection(ursula.record.id);
      assert.ok(fellBack);
      assert.notEqual(fellBack.transport, 'quic');
      assert.equal(fellBack.quicConnectionId, null);
      assert.equal(fellBack.fallback, ursula.record.fallback);
      assert.match(fellBack.fallback ?? '', /QUIC/);
    } finally {
      storage.close();
    }
  });
});
