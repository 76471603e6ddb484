/**
 * The route-MTU ceiling of path MTU discovery (app/quic/driver/pathMtu.ts) read from snapshots
 * of the routing table: parsing `ip -o route show` lines, the lookup, and that many peer
 * addresses cost one read of the table, not one process each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRoutes, routeMtuIn, routeMtuLookup } from '../../../app/quic/driver/pathMtu.ts';

const V4 = [
  'default via 192.0.2.1 dev eth0 proto dhcp metric 100 mtu 1400 ',
  '192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2 ',
  '198.51.100.0/24 via 192.0.2.1 dev eth0 mtu lock 1300 ',
  'local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 ',
  'broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.2 ',
  'default dev wg0 table 51820 scope link ',
  // `ip route show cache`: a path MTU the kernel learned from ICMP.
  '203.0.113.9 via 192.0.2.1 dev eth0 \\    cache expires 597sec mtu 1280 ',
].join('\n');

const V6 = ['default via fd00::1 dev eth0 metric 1024 mtu 1420 pref medium', 'fd00::/64 dev eth0 proto kernel'].join(
  '\n',
);

describe('route MTU from the routing table', () => {
  it('parses routes, their table and their mtu (plain, locked, learned)', () => {
    const routes = parseRoutes(V4, 4);
    assert.equal(routes.length, 7);
    assert.deepEqual(routes[0], { family: 4, network: '0.0.0.0', prefixLength: 0, table: 'main', mtu: 1400 });
    assert.deepEqual(routes[2]!.mtu, 1300);
    assert.deepEqual([routes[3]!.table, routes[3]!.prefixLength], ['local', 8]);
    assert.deepEqual(routes[6], { family: 4, network: '203.0.113.9', prefixLength: 32, table: 'main', mtu: 1280 });
  });

  it("takes each table's most specific route, the narrowest MTU of those", () => {
    const routes = [...parseRoutes(V4, 4), ...parseRoutes(V6, 6)];
    assert.equal(routeMtuIn(routes, '8.8.8.8'), 1400, 'the default route');
    assert.equal(routeMtuIn(routes, '192.0.2.7'), null, 'on-link: no mtu on the more specific route');
    assert.equal(routeMtuIn(routes, '198.51.100.20'), 1300);
    assert.equal(routeMtuIn(routes, '::ffff:198.51.100.20'), 1300, 'IPv4-mapped');
    assert.equal(routeMtuIn(routes, '203.0.113.9'), 1280, 'learned path MTU');
    assert.equal(routeMtuIn(routes, '2001:db8::1'), 1420);
    assert.equal(routeMtuIn(routes, 'fd00::5'), null);
    assert.equal(routeMtuIn(routes, 'not an address'), null);
  });

  it('reads the table once for 500 peer addresses, again after the snapshot expires', async () => {
    const reads: number[] = [];
    let now = 0;
    const lookup = routeMtuLookup(
      async (family) => {
        reads.push(family);
        return family === 4 ? V4 : V6;
      },
      2_000,
      () => now,
    );
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => lookup(`198.51.${100 + (i >> 8)}.${i & 255}`)),
    );
    assert.deepEqual(reads, [4]);
    assert.equal(results.filter((m) => m === 1300).length, 256);
    assert.equal(results.filter((m) => m === 1400).length, 244);
    now = 2_000;
    await lookup('198.51.100.1');
    await lookup('2001:db8::1');
    assert.deepEqual(reads, [4, 4, 6]);
  });
});
