/**
 * Path MTU discovery (RFC 9000 §14.3, RFC 8899): the search in MtuDiscovery, and the ceiling that
 * the endpoint derives from the local interface (app/quic/driver/pathMtu.ts).
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import {
  BASE_PLPMTU,
  BLACK_HOLE_THRESHOLD,
  LADDER,
  MtuDiscovery,
  RAISE_INTERVAL_MS,
} from '../../../app/quic/mtuDiscovery.ts';
import { ceilingFrom, interfaceMtu, sourceAddressFor, udpPayloadFor } from '../../../app/quic/driver/pathMtu.ts';

/** Runs the search against a path that carries `pathMtu` bytes; returns the probe sizes sent. */
function search(d: MtuDiscovery, pathMtu: number, now = 0): number[] {
  const sizes: number[] = [];
  for (let size = d.probeSize(now); size !== null; size = d.probeSize(now)) {
    d.onProbeSent(size);
    sizes.push(size);
    if (size <= pathMtu) d.onProbeAcked(size);
    else d.onProbeLost(size);
    assert.ok(sizes.length < 40, 'the search ends');
  }
  return sizes;
}

describe('MtuDiscovery', () => {
  it('starts at 1200 and climbs the common path MTUs, then the ceiling, while probes get through', () => {
    const d = new MtuDiscovery();
    assert.equal(d.probeSize(0), null, 'nothing before start');
    d.start(1472, 0);
    assert.equal(d.current, BASE_PLPMTU);
    assert.deepEqual(search(d, 1500), [...LADDER]);
    assert.equal(d.current, 1472);
    assert.equal(d.deadline, Infinity, 'nothing left to search');
    d.start(9000, 0);
    assert.deepEqual(search(d, 9000), [...LADDER, 9000]);
    assert.equal(d.current, 9000);
  });

  it('one probe at a time', () => {
    const d = new MtuDiscovery();
    d.start(9000, 0);
    d.onProbeSent(d.probeSize(0)!);
    assert.equal(d.probeSize(0), null);
    assert.equal(d.deadline, Infinity);
  });

  it('stops at the first lost probe: after an ICMP our kernel fragments larger ones, which proves nothing', () => {
    const d = new MtuDiscovery();
    d.start(9000, 0);
    assert.deepEqual(search(d, 1400), [1372, 1452]);
    assert.equal(d.current, 1372);
    assert.equal(d.probesLost, 1);
    assert.equal(d.deadline, RAISE_INTERVAL_MS, 'until PMTU_RAISE_TIMER');
  });

  it('steps up to what the congestion window allows when the next size does not fit', () => {
    const d = new MtuDiscovery();
    const ack = (size: number): void => {
      d.onProbeSent(size);
      d.onProbeAcked(size);
    };
    d.start(65507, 0);
    for (const step of LADDER) {
      assert.equal(d.probeSize(0, 14_720), step);
      ack(step);
    }
    assert.equal(d.probeSize(0, 14_720), 14_720);
    ack(14_720);
    assert.equal(d.probeSize(0, 14_730), null, 'a step smaller than MIN_STEP waits for more window');
    assert.equal(d.probeSize(0, 29_440), 29_440);
    ack(29_440);
    assert.equal(d.probeSize(0, 200_000), 65507);
  });

  it('never goes above the ceiling, and a ceiling of 1200 means no probing at all', () => {
    const d = new MtuDiscovery();
    d.start(1200, 0);
    assert.equal(d.probeSize(0), null);
    assert.equal(d.deadline, Infinity);
    d.start(1300, 0);
    assert.deepEqual(search(d, 65_000), [1300]);
  });

  it('climbs again after PMTU_RAISE_TIMER (RFC 8899 §5.1.1)', () => {
    const d = new MtuDiscovery();
    d.start(9000, 0);
    search(d, 1400);
    assert.equal(d.probeSize(RAISE_INTERVAL_MS - 1), null);
    // The path grew meanwhile.
    assert.deepEqual(search(d, 9000, RAISE_INTERVAL_MS), [1452, 1472, 9000]);
    assert.equal(d.current, 9000);
  });

  it('declares a black hole after repeated losses of only large packets, then climbs below', () => {
    const d = new MtuDiscovery();
    d.start(9000, 0);
    search(d, 9000);
    for (let i = 1; i < BLACK_HOLE_THRESHOLD; i++) assert.equal(d.onLargeLoss(10), false);
    d.onLargeAcked();
    for (let i = 1; i < BLACK_HOLE_THRESHOLD; i++)
      assert.equal(d.onLargeLoss(20), false, 'an acknowledged large packet resets the count');
    assert.equal(d.onLargeLoss(20), true);
    assert.equal(d.current, BASE_PLPMTU);
    assert.equal(d.blackHoles, 1);
    assert.equal(d.probeSize(21), null, 'the path settles first');
    assert.deepEqual(search(d, 1460, 20 + 1_000), [1372, 1452, 1472], 'the size that failed is not tried again');
    assert.equal(d.current, 1452);
  });

  it('while at 1200 bytes no loss is a black hole', () => {
    const d = new MtuDiscovery();
    d.start(9000, 0);
    for (let i = 0; i < 2 * BLACK_HOLE_THRESHOLD; i++) assert.equal(d.onLargeLoss(10), false);
  });
});

describe('path MTU ceiling (pathMtu.ts)', () => {
  it('subtracts the IP and UDP headers, within what an IP packet holds', () => {
    assert.equal(udpPayloadFor(1500, 4), 1472);
    assert.equal(udpPayloadFor(1500, 6), 1452);
    // Loopback: MTU 65536, but IPv4's total length is 16 bits.
    assert.equal(udpPayloadFor(65536, 4), 65507);
    assert.equal(udpPayloadFor(65536, 6), 65488);
  });

  it('finds the interface by exact address or by subnet', () => {
    const loopback = Object.entries(networkInterfaces()).find(([, a]) =>
      a?.some((x) => x.address === '127.0.0.1'),
    )?.[0];
    assert.ok(loopback, 'this machine has 127.0.0.1');
    const asked: string[] = [];
    const read = (name: string): number => (asked.push(name), 65536);
    assert.equal(interfaceMtu('127.0.0.1', read), 65536);
    assert.equal(interfaceMtu('127.0.0.2', read), 65536, '127.0.0.2 is in 127.0.0.0/8');
    assert.deepEqual(asked, [loopback, loopback]);
    // TEST-NET-3 (RFC 5737) is no local address; nothing is sent to find that out.
    assert.equal(interfaceMtu('203.0.113.9', read), null);
    assert.equal(interfaceMtu('not an address', read), null);
  });

  it('assumes Ethernet when the interface is unknown', () => {
    assert.equal(ceilingFrom(null, 4), 1472);
    assert.equal(ceilingFrom('203.0.113.9', 6), 1452);
  });

  it('asks routing which local address reaches a peer (a connected socket, nothing sent)', async () => {
    assert.equal(await sourceAddressFor({ address: '127.0.0.1', port: 9 }), '127.0.0.1');
    assert.equal(await sourceAddressFor({ address: 'localhost', port: 9 }), null);
    assert.equal(await sourceAddressFor({ address: '127.0.0.1', port: 0 }), null, 'connect() refuses port 0');
  });
});
