import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderSrvCandidates, weightedOrder, type SrvAnswer } from '../../../app/connect/srvOrder.ts';
import { seededRandom } from '../../support/seededRandom.ts';

const tls = (records: SrvAnswer['records'], dnssec: SrvAnswer['dnssec'] = 'insecure'): SrvAnswer => ({
  name: '_xmpps-client._tcp.example.org',
  source: 'srv:_xmpps-client._tcp',
  transport: 'tls',
  dnssec,
  records,
});
const starttls = (records: SrvAnswer['records']): SrvAnswer => ({
  name: '_xmpp-client._tcp.example.org',
  source: 'srv:_xmpp-client._tcp',
  transport: 'starttls',
  dnssec: 'insecure',
  records,
});

test('XEP-0368: both services are merged by priority regardless of service type', () => {
  const { candidates } = orderSrvCandidates(
    [
      starttls([{ priority: 5, weight: 0, port: 5222, target: 'xmpp.example.org.' }]),
      tls([
        { priority: 0, weight: 0, port: 5223, target: 'xmpp.example.org.' },
        { priority: 10, weight: 0, port: 443, target: 'backup.example.org.' },
      ]),
    ],
    () => 0,
  );
  assert.deepEqual(
    candidates.map((c) => `${c.transport} ${c.host}:${c.port} p${c.priority}`),
    ['tls xmpp.example.org:5223 p0', 'starttls xmpp.example.org:5222 p5', 'tls backup.example.org:443 p10'],
  );
  assert.equal(candidates[0]!.source, 'srv:_xmpps-client._tcp');
  assert.equal(candidates[0]!.record, '_xmpps-client._tcp.example.org. 0 0 5223 xmpp.example.org.');
});

test('RFC 2782: within a priority, records are chosen in proportion to their weight', () => {
  const random = seededRandom(42);
  const counts = new Map<string, number>();
  const runs = 20_000;
  for (let i = 0; i < runs; i++) {
    const first = weightedOrder(
      [
        { name: 'a', priority: 1, weight: 10 },
        { name: 'b', priority: 1, weight: 30 },
        { name: 'c', priority: 1, weight: 60 },
      ],
      random,
    )[0]!.name;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  // Expected shares 10/100, 30/100, 60/100 (the +1 of the inclusive range shifts them by < 1%).
  for (const [name, share] of [
    ['a', 0.1],
    ['b', 0.3],
    ['c', 0.6],
  ] as const) {
    const observed = (counts.get(name) ?? 0) / runs;
    assert.ok(Math.abs(observed - share) < 0.02, `${name}: observed ${observed}, expected about ${share}`);
  }
});

test('RFC 2782: weight-0 records are rarely first when others have weight, but still ordered', () => {
  const random = seededRandom(7);
  let zeroFirst = 0;
  const runs = 5_000;
  for (let i = 0; i < runs; i++) {
    const order = weightedOrder(
      [
        { name: 'zero', priority: 0, weight: 0 },
        { name: 'heavy', priority: 0, weight: 100 },
      ],
      random,
    );
    assert.equal(order.length, 2);
    if (order[0]!.name === 'zero') zeroFirst++;
  }
  // Only a draw of exactly 0 out of 0..100 picks the weight-0 record: about 1%.
  assert.ok(zeroFirst / runs < 0.03, `zero first ${zeroFirst}/${runs}`);
  assert.ok(zeroFirst > 0, 'a weight-0 record can still be selected first');
});

test('all weights zero keeps the given order', () => {
  const order = weightedOrder(
    [
      { name: 'x', priority: 3, weight: 0 },
      { name: 'y', priority: 3, weight: 0 },
      { name: 'z', priority: 3, weight: 0 },
    ],
    seededRandom(1),
  );
  assert.deepEqual(
    order.map((o) => o.name),
    ['x', 'y', 'z'],
  );
});

test('a target of "." declines the service; duplicates and malformed records are dropped', () => {
  const result = orderSrvCandidates(
    [
      starttls([{ priority: 0, weight: 0, port: 0, target: '.' }]),
      tls([
        { priority: 0, weight: 5, port: 5223, target: 'XMPP.example.org.' },
        { priority: 0, weight: 5, port: 5223, target: 'xmpp.example.org' },
        { priority: 0, weight: 5, port: 0, target: 'zero-port.example.org.' },
        { priority: 0, weight: 5, port: 5223, target: 'bad..name.' },
        { priority: 70_000, weight: 5, port: 5223, target: 'big.example.org.' },
        { priority: 0, weight: 5, port: 5223, target: `${'a'.repeat(64)}.example.org.` },
      ]),
    ],
    seededRandom(3),
  );
  assert.deepEqual(result.declined, ['srv:_xmpp-client._tcp']);
  assert.deepEqual(
    result.candidates.map((c) => c.host),
    ['xmpp.example.org'],
  );
});

test('an absurd number of records is cut to the limit', () => {
  const many = Array.from({ length: 1000 }, (_, i) => ({
    priority: i % 3,
    weight: i % 7,
    port: 5223,
    target: `h${i}.example.org.`,
  }));
  const { candidates } = orderSrvCandidates([tls(many)], seededRandom(9));
  assert.equal(candidates.length, 32);
  for (let i = 1; i < candidates.length; i++) assert.ok(candidates[i - 1]!.priority <= candidates[i]!.priority);
});

test('DNSSEC status travels with each candidate', () => {
  const { candidates } = orderSrvCandidates(
    [tls([{ priority: 0, weight: 0, port: 5223, target: 'x.example.org.' }], 'secure')],
    () => 0.5,
  );
  assert.equal(candidates[0]!.dnssec, 'secure');
});
