/**
 * `Roaming` with fakes for the pool, the accounts and the monitor: path reports reach exactly the
 * records on the reported connection, every account is checked once per round, changes during a
 * round are folded into one more round, and the transport memory follows the latest network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Roaming, type MonitorLike, type RoamingAccount } from '../../../app/core/roaming.ts';
import type { QuicPathReport, QuicSessions } from '../../../app/connect/quicSessions.ts';
import type { NetworkChange, NetworkSnapshot } from '../../../app/connect/networkMonitor.ts';
import { networkKey, TransportMemory, type TransportMemoryStore } from '../../../app/connect/transportMemory.ts';
import type { TransportOutcomeEntry } from '../../../app/storage/transportMemory.ts';
import type { PathEvent, SecurityRecord } from '../../../app/contract/viewModels.ts';

function snapshot(address: string, gateway: string): NetworkSnapshot {
  return {
    addresses: [{ ifname: 'wlan0', family: 'IPv4', address, prefixLength: 24 }],
    defaultRouteInterfaces: ['wlan0'],
    defaultGateways: [gateway],
  };
}

const WIFI = snapshot('192.168.1.20', '192.168.1.1');
const HOTSPOT = snapshot('172.20.10.3', '172.20.10.1');
const OFFICE = snapshot('10.1.2.3', '10.1.2.1');

function change(snap: NetworkSnapshot, removed: string | null, added: string | null): NetworkChange {
  const addr = (address: string) => ({ ifname: 'wlan0', family: 'IPv4' as const, address });
  return {
    type: 'network-changed',
    cause: 'events',
    events: [],
    snapshot: snap,
    addressesAdded: added ? [addr(added)] : [],
    addressesRemoved: removed ? [addr(removed)] : [],
    defaultRouteChanged: true,
  };
}

function record(id: string, quicConnectionId: string | null): SecurityRecord {
  return { id, quicConnectionId } as SecurityRecord;
}

/** An account whose check answers with `outcome` (after `gate`, when given). */
function account(
  rec: SecurityRecord | null,
  outcome: 'alive' | 'dead' | 'offline',
  gate?: Promise<void>,
): RoamingAccount & { checks: number[] } {
  const checks: number[] = [];
  return {
    record: rec,
    checks,
    async checkAlive(timeoutMs) {
      checks.push(timeoutMs);
      await gate;
      return { outcome, ms: outcome === 'alive' ? 12 : outcome === 'dead' ? timeoutMs : 0 };
    },
  };
}

function memoryStore(): TransportMemoryStore & { rows: Map<string, TransportOutcomeEntry> } {
  const rows = new Map<string, TransportOutcomeEntry>();
  return {
    rows,
    getTransportOutcome: (network, domain) => rows.get(`${network}|${domain}`) ?? null,
    recordTransportOutcome: (entry) => void rows.set(`${entry.networkKey}|${entry.domain}`, entry),
  };
}

function pathEvent(kind: PathEvent['kind'], detail: string): PathEvent {
  return { at: 1, kind, from: 'a', to: 'b', rttBeforeMs: 10, rttAfterMs: 11, detail };
}

interface Fixture {
  roaming: Roaming;
  added: { recordId: string; event: PathEvent }[];
  poolCalls: { from?: string | null; to?: string | null }[];
  monitor: MonitorLike & { change(c: NetworkChange): void };
  store: ReturnType<typeof memoryStore>;
}

function fixture(
  accounts: RoamingAccount[],
  reports: () => Promise<QuicPathReport[]> = async () => [],
  initial: NetworkSnapshot = WIFI,
): Fixture {
  const added: Fixture['added'] = [];
  const poolCalls: Fixture['poolCalls'] = [];
  const pool = {
    networkChanged: (hint: { from?: string | null; to?: string | null }) => {
      poolCalls.push(hint);
      return reports();
    },
  } as unknown as QuicSessions;
  let onChange: ((c: NetworkChange) => void) | null = null;
  const monitor = {
    snapshot: initial,
    start: async () => undefined,
    stop: () => undefined,
    resumed: () => undefined,
    change: (c: NetworkChange) => onChange!(c),
  };
  const store = memoryStore();
  const roaming = new Roaming({
    pool,
    memory: new TransportMemory(store),
    accounts: () => accounts,
    addPathEvent: (recordId, event) => added.push({ recordId, event }),
    log: () => undefined,
    monitor: (callback) => {
      onChange = callback;
      return monitor;
    },
    now: () => 5000,
    checkTimeoutMs: 700,
  });
  return { roaming, added, poolCalls, monitor, store };
}

test("a connection's path report is added to exactly the records riding that connection", async () => {
  const a = account(record('rec-a', 'conn-1'), 'alive');
  const b = account(record('rec-b', 'conn-1'), 'alive');
  const c = account(record('rec-c', 'conn-2'), 'alive');
  const tcp = account(record('rec-tcp', null), 'alive');
  const migrated = pathEvent('migrated', 'moved');
  const failed = pathEvent('migration-failed', 'could not');
  const f = fixture([a, b, c, tcp], async () => [
    { connectionId: 'conn-1', event: migrated },
    { connectionId: 'conn-9', event: failed },
  ]);
  await f.roaming.start();
  await f.roaming.handle(change(HOTSPOT, '192.168.1.20', '172.20.10.3'));
  assert.deepEqual(f.poolCalls, [{ from: '192.168.1.20', to: '172.20.10.3' }]);
  const moves = f.added.filter((x) => x.event.kind === 'migrated' || x.event.kind === 'migration-failed');
  assert.deepEqual(
    moves.map((x) => [x.recordId, x.event]),
    [
      ['rec-a', migrated],
      ['rec-b', migrated],
    ],
  );
});

test("each account is checked once: 'checked' when it answers, 'reconnected' when not, nothing when offline", async () => {
  const alive = account(record('rec-alive', 'conn-1'), 'alive');
  const dead = account(record('rec-dead', null), 'dead');
  const offline = account(record('rec-off', null), 'offline');
  const noRecord = account(null, 'alive');
  const f = fixture([alive, dead, offline, noRecord]);
  await f.roaming.start();
  await f.roaming.handle(change(HOTSPOT, '192.168.1.20', '172.20.10.3'));
  assert.deepEqual(alive.checks, [700]);
  assert.deepEqual(dead.checks, [700]);
  assert.deepEqual(offline.checks, [700]);
  assert.deepEqual(noRecord.checks, [], 'an account without a stream is not asked');
  const byRecord = new Map(f.added.map((x) => [x.recordId, x.event]));
  assert.deepEqual([...byRecord.keys()].sort(), ['rec-alive', 'rec-dead']);
  const checked = byRecord.get('rec-alive')!;
  assert.equal(checked.kind, 'checked');
  assert.equal(checked.rttAfterMs, 12);
  assert.deepEqual([checked.from, checked.to, checked.at], ['192.168.1.20', '172.20.10.3', 5000]);
  const reconnected = byRecord.get('rec-dead')!;
  assert.equal(reconnected.kind, 'reconnected');
  assert.equal(reconnected.rttAfterMs, null);
  assert.match(reconnected.detail, /0\.7 s/);
});

test('changes that arrive during a round are folded into exactly one more round, with the latest change', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const a = account(record('rec-a', null), 'alive', gate);
  const f = fixture([a]);
  await f.roaming.start();
  const first = f.roaming.handle(change(HOTSPOT, '192.168.1.20', '172.20.10.3'));
  // The first round is waiting on the account's check: three more changes arrive.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(f.poolCalls.length, 1);
  f.monitor.change(change(OFFICE, '172.20.10.3', '10.1.2.3'));
  f.monitor.change(change(WIFI, '10.1.2.3', '192.168.1.20'));
  const last = f.roaming.handle(change(OFFICE, '192.168.1.20', '10.1.2.3'));
  assert.equal(f.poolCalls.length, 1, 'no second round while the first runs');
  release();
  await first;
  await last;
  assert.deepEqual(f.poolCalls, [
    { from: '192.168.1.20', to: '172.20.10.3' },
    { from: '192.168.1.20', to: '10.1.2.3' },
  ]);
  assert.equal(a.checks.length, 2);
  // Nothing runs any more: a later change starts a fresh round.
  await f.roaming.handle(change(HOTSPOT, '10.1.2.3', '172.20.10.3'));
  assert.equal(f.poolCalls.length, 3);
});

test('a round that fails (the pool throws) does not lose the next change', async () => {
  let calls = 0;
  const f = fixture([], async () => {
    calls++;
    if (calls === 1) throw new Error('boom');
    return [];
  });
  await f.roaming.start();
  await f.roaming.handle(change(HOTSPOT, null, '172.20.10.3'));
  await f.roaming.handle(change(WIFI, null, '192.168.1.20'));
  assert.equal(calls, 2);
});

test("the advisor reads and writes the transport memory under the latest snapshot's network key", async () => {
  const f = fixture([]);
  await f.roaming.start();
  const wifi = networkKey(WIFI)!;
  const hotspot = networkKey(HOTSPOT)!;
  assert.notEqual(wifi, hotspot);
  // Bound to the monitor's snapshot at start.
  f.roaming.advisor.record('example.org', 'quic-failed');
  assert.deepEqual([...f.store.rows.keys()], [`${wifi}|example.org`]);
  assert.equal(f.roaming.advisor.advice('example.org'), 'tcp-first');
  // On the hotspot QUIC has no history: it gets its head start, and what is learnt there stays there.
  await f.roaming.handle(change(HOTSPOT, '192.168.1.20', '172.20.10.3'));
  assert.equal(f.roaming.advisor.advice('example.org'), 'quic-first');
  f.roaming.advisor.record('example.org', 'quic-ok');
  assert.equal(f.store.rows.get(`${hotspot}|example.org`)?.outcome, 'quic-ok');
  assert.equal(f.store.rows.get(`${wifi}|example.org`)?.outcome, 'quic-failed');
  // Back on Wi-Fi, the failure learnt there is in force again.
  await f.roaming.handle(change(WIFI, '172.20.10.3', '192.168.1.20'));
  assert.equal(f.roaming.advisor.advice('example.org'), 'tcp-first');
});
