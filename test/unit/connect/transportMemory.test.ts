import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  profileSalt,
  networkKey,
  networkPrefix,
  QUIC_FAILURE_MEMORY_MS,
  TransportMemory,
  type TransportMemoryStore,
} from '../../../app/connect/transportMemory.ts';
import type { NetworkSnapshot } from '../../../app/connect/networkMonitor.ts';
import { openStorage } from '../../../app/storage/storage.ts';
import type { TransportOutcomeEntry } from '../../../app/storage/transportMemory.ts';

const HOUR = 60 * 60 * 1000;

const cafe = (address: string, gateway = '192.168.1.1', ifname = 'wlan0'): NetworkSnapshot => ({
  addresses: [
    { ifname, family: 'IPv4', address, prefixLength: 24 },
    { ifname: 'docker0', family: 'IPv4', address: '172.17.0.1', prefixLength: 16 },
  ],
  defaultRouteInterfaces: [ifname],
  defaultGateways: [gateway],
});

/** An in-memory store with the storage's semantics (latest outcome per network and domain). */
function memoryStore(): TransportMemoryStore & { rows: Map<string, TransportOutcomeEntry> } {
  const rows = new Map<string, TransportOutcomeEntry>();
  return {
    rows,
    getTransportOutcome: (networkKey, domain) => rows.get(`${networkKey} ${domain}`) ?? null,
    recordTransportOutcome: (entry) => rows.set(`${entry.networkKey} ${entry.domain}`, { ...entry }),
  };
}

test('network key: the same network whatever the host address, adapter or order; never a raw address', () => {
  const key = networkKey(cafe('192.168.1.23'));
  assert.match(key ?? '', /^[0-9a-f]{32}$/);
  assert.equal(networkKey(cafe('192.168.1.77')), key, 'another lease on the same /24');
  assert.equal(networkKey(cafe('192.168.1.23', '192.168.1.1', 'wlan1')), key, 'another adapter');
  const reordered = cafe('192.168.1.23');
  reordered.addresses.reverse();
  assert.equal(networkKey(reordered), key);
  assert.notEqual(networkKey(cafe('192.168.1.23', '192.168.1.254')), key, 'another gateway');
  assert.notEqual(networkKey(cafe('192.168.2.23', '192.168.2.1')), key, 'another prefix');
  assert.notEqual(networkKey(cafe('192.168.1.23'), 'profile salt'), key, 'the salt changes the key');
  // Limit, documented: two cafés with the same prefix and gateway are one network to the memory.
  assert.equal(networkKey(cafe('192.168.1.5')), key);
});

test('network key: only default-route interfaces count; IPv6 privacy addresses of one /64 agree', () => {
  const v6 = (address: string, prefixLength?: number): NetworkSnapshot => ({
    addresses: [
      { ifname: 'eth0', family: 'IPv6', address, ...(prefixLength === undefined ? {} : { prefixLength }) },
      { ifname: 'vpn0', family: 'IPv4', address: '10.8.0.2', prefixLength: 24 },
    ],
    defaultRouteInterfaces: ['eth0'],
    defaultGateways: ['fe80::1%eth0'],
  });
  const key = networkKey(v6('2001:db8:1:2:a:b:c:d', 64));
  assert.equal(networkKey(v6('2001:db8:1:2:1111:2222:3333:4444', 64)), key);
  assert.equal(networkKey(v6('2001:db8:1:2::99', 128)), key, 'a /128 (DHCPv6) counts as its /64');
  assert.equal(networkKey(v6('2001:db8:1:2::99')), key, 'unknown prefix: /64');
  assert.notEqual(networkKey(v6('2001:db8:1:3::99', 64)), key);
  assert.equal(networkKey({ addresses: cafe('192.168.1.2').addresses, defaultRouteInterfaces: [] }), null, 'no route');
  assert.equal(
    networkKey({ addresses: [], defaultRouteInterfaces: ['wlan0'], defaultGateways: ['192.168.1.1'] }),
    null,
    'a route but no address',
  );
});

test('network prefixes', () => {
  assert.equal(networkPrefix('IPv4', '192.168.1.23', 24), '192.168.1.0/24');
  assert.equal(networkPrefix('IPv4', '10.1.2.3', 13), '10.0.0.0/13');
  assert.equal(networkPrefix('IPv4', '10.1.2.3'), '10.1.2.0/24');
  assert.equal(networkPrefix('IPv4', '10.1.2.3', 99), '10.1.2.3/32');
  assert.equal(networkPrefix('IPv6', '2001:db8::1:2:3:4', 64), '2001:db8:0:0:0:0:0:0/64');
  assert.equal(networkPrefix('IPv6', '2001:db8:aa:bb:1:2:3:4', 56), '2001:db8:aa:0:0:0:0:0/56');
  assert.equal(networkPrefix('IPv6', '::ffff:192.0.2.1', 64), '0:0:0:0:0:0:0:0/64');
  assert.equal(networkPrefix('IPv6', '1::3:4:5:6:7:8', 64), '1:0:3:4:0:0:0:0/64');
  for (const bad of ['', '1.2.3', '1.2.3.256', 'x.1.2.3']) assert.equal(networkPrefix('IPv4', bad, 24), null, bad);
  for (const bad of ['', '1:2', '1::2:3:4:5:6:7:8', '1::2::3', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8:9'])
    assert.equal(networkPrefix('IPv6', bad, 64), null, bad);
});

test('a QUIC failure means TCP first on that network for that domain, for 24 hours', () => {
  const memory = new TransportMemory(memoryStore());
  const net = networkKey(cafe('192.168.1.23'));
  const other = networkKey(cafe('10.0.0.5', '10.0.0.1'));
  const t0 = 1_000_000_000_000;
  assert.equal(memory.advice(net, 'example.org', t0), 'quic-first', 'nothing known');
  memory.record(net, 'example.org', 'quic-failed', t0);
  assert.equal(memory.advice(net, 'example.org', t0 + HOUR), 'tcp-first');
  assert.equal(memory.advice(net, 'EXAMPLE.org.', t0 + HOUR), 'tcp-first', 'domains compare as DNS names');
  assert.equal(memory.advice(other, 'example.org', t0 + HOUR), 'quic-first', 'another network');
  assert.equal(memory.advice(net, 'example.net', t0 + HOUR), 'quic-first', 'another domain');
  assert.equal(memory.advice(net, 'example.org', t0 + QUIC_FAILURE_MEMORY_MS - 1), 'tcp-first');
  assert.equal(memory.advice(net, 'example.org', t0 + QUIC_FAILURE_MEMORY_MS), 'quic-first', 'expired');
  assert.equal(memory.advice(net, 'example.org', t0 - HOUR), 'quic-first', 'a clock that went back');
  assert.equal(memory.advice(null, 'example.org', t0), 'quic-first', 'no network');
});

test('a QUIC success clears the failure; an older outcome does not overwrite a newer one', () => {
  const store = memoryStore();
  const memory = new TransportMemory(store, { failureMemoryMs: 10 * HOUR });
  const net = networkKey(cafe('192.168.1.23'));
  memory.record(net, 'example.org', 'quic-failed', 1000);
  assert.equal(memory.advice(net, 'example.org', 2000), 'tcp-first');
  memory.record(net, 'example.org', 'quic-ok', 3000);
  assert.equal(memory.advice(net, 'example.org', 4000), 'quic-first');
  memory.record(net, 'example.org', 'quic-failed', 2500); // a parallel attempt that finished late
  assert.equal(memory.advice(net, 'example.org', 4000), 'quic-first');
  memory.record(net, 'example.org', 'quic-failed', 5000);
  assert.equal(memory.advice(net, 'example.org', 5000 + 10 * HOUR - 1), 'tcp-first', 'a new failure, a new day');
  memory.record(null, 'example.org', 'quic-failed', 6000);
  assert.equal(store.rows.size, 1, 'nothing recorded without a network');
});

test('a failing store never stops a connection: reads advise QUIC first, writes are dropped, both reported', () => {
  const errors: unknown[] = [];
  const broken: TransportMemoryStore = {
    getTransportOutcome: () => {
      throw new Error('database is closed');
    },
    recordTransportOutcome: () => {
      throw new Error('disk full');
    },
  };
  const memory = new TransportMemory(broken, { onStoreError: (e) => errors.push(e) });
  assert.equal(memory.advice('ab'.repeat(16), 'example.org', 1), 'quic-first');
  memory.record('ab'.repeat(16), 'example.org', 'quic-failed', 1);
  assert.deepEqual(
    errors.map((e) => (e as Error).message),
    ['database is closed', 'database is closed', 'disk full'],
  );
});

test('the Storage facade is a TransportMemoryStore: a failure survives a restart of the policy', (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const net = networkKey(cafe('192.168.1.23'));
  new TransportMemory(storage).record(net, 'example.org', 'quic-failed', 1000);
  assert.equal(new TransportMemory(storage).advice(net, 'example.org', 2000), 'tcp-first');
  assert.equal(storage.getTransportOutcome(net!, 'example.org')?.outcome, 'quic-failed');
});

test('profileSalt: made once per profile, random, then the same on every call', () => {
  const settings = new Map<string, unknown>();
  const store = {
    getSetting: (key: string) => settings.get(key) ?? null,
    setSetting: (key: string, value: string) => void settings.set(key, value),
  };
  const first = profileSalt(store);
  assert.match(first, /^[0-9a-f]{32}$/);
  assert.equal(profileSalt(store), first);
  const other = new Map<string, unknown>();
  const second = profileSalt({
    getSetting: (key: string) => other.get(key) ?? null,
    setSetting: (key: string, value: string) => void other.set(key, value),
  });
  assert.notEqual(second, first, 'another profile gets another salt');
  settings.set('networkKeySalt', 'not hex');
  assert.notEqual(profileSalt(store), 'not hex', 'a damaged salt is replaced');
});
