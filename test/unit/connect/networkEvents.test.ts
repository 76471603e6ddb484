/**
 * `ip -o monitor address route link` lines, recorded from iproute2 6.1 in a network namespace
 * (veth pair, addresses and routes added and removed), parsed into the events the network
 * monitor acts on; everything else is ignored, and no line throws.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_LINE_LENGTH, parseIpMonitorLine } from '../../../app/connect/networkEvents.ts';

const LFT = '\\       valid_lft forever preferred_lft forever';

test('a new IPv4 address', () => {
  assert.deepEqual(parseIpMonitorLine(`3: va    inet 10.77.0.2/24 scope global va${LFT}`), {
    kind: 'address',
    action: 'added',
    ifindex: 3,
    ifname: 'va',
    family: 'inet',
    address: '10.77.0.2',
    prefixLength: 24,
    scope: 'global',
  });
  const brd = parseIpMonitorLine(
    `2: wlan0    inet 192.168.1.23/24 brd 192.168.1.255 scope global dynamic noprefixroute wlan0\\       valid_lft 86398sec preferred_lft 86398sec`,
  );
  assert.equal(brd?.kind === 'address' && brd.address, '192.168.1.23');
});

test('a deleted IPv4 address', () => {
  const e = parseIpMonitorLine(`Deleted 3: va    inet 10.77.0.2/24 scope global va${LFT}`);
  assert.equal(e?.kind, 'address');
  assert.equal(e?.kind === 'address' && e.action, 'deleted');
  assert.equal(e?.kind === 'address' && e.address, '10.77.0.2');
});

test('a new and a deleted IPv6 address, global and link-local', () => {
  const added = parseIpMonitorLine(`3: va    inet6 fd00:77::2/64 scope global nodad ${LFT}`);
  assert.deepEqual(added, {
    kind: 'address',
    action: 'added',
    ifindex: 3,
    ifname: 'va',
    family: 'inet6',
    address: 'fd00:77::2',
    prefixLength: 64,
    scope: 'global',
  });
  const linkLocal = parseIpMonitorLine(
    `Deleted 3: va    inet6 fe80::ccc8:9dff:fe96:7107/64 scope link tentative ${LFT}`,
  );
  assert.equal(linkLocal?.kind === 'address' && linkLocal.action, 'deleted');
  assert.equal(linkLocal?.kind === 'address' && linkLocal.scope, 'link');
});

test('an IPv4 point-to-point address takes the peer prefix', () => {
  const e = parseIpMonitorLine('5: tun0    inet 10.8.0.6 peer 10.8.0.5/32 scope global tun0');
  assert.equal(e?.kind === 'address' && `${e.address}/${e.prefixLength}`, '10.8.0.6/32');
});

test('link down and up', () => {
  const down = parseIpMonitorLine(
    '3: va@vb: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether ce:c8:9d:96:71:07 brd ff:ff:ff:ff:ff:ff',
  );
  assert.deepEqual(down, {
    kind: 'link',
    action: 'changed',
    ifindex: 3,
    ifname: 'va',
    up: false,
    flags: ['BROADCAST', 'MULTICAST'],
    state: 'DOWN',
  });
  const noCarrier = parseIpMonitorLine(
    '3: va@vb: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \\    link/ether ce:c8:9d:96:71:07 brd ff:ff:ff:ff:ff:ff',
  );
  assert.equal(noCarrier?.kind === 'link' && noCarrier.up, false);
  const up = parseIpMonitorLine(
    '3: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether ce:c8:9d:96:71:07 brd ff:ff:ff:ff:ff:ff',
  );
  assert.equal(up?.kind === 'link' && up.up, true);
  assert.equal(up?.kind === 'link' && up.state, 'UP');
  const gone = parseIpMonitorLine(
    'Deleted 3: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether ce:c8:9d:96:71:07 brd ff:ff:ff:ff:ff:ff',
  );
  assert.equal(gone?.kind === 'link' && gone.action, 'deleted');
  assert.equal(gone?.kind === 'link' && gone.up, false);
});

test('a default route added and deleted, IPv4 and IPv6', () => {
  assert.deepEqual(parseIpMonitorLine('default via 10.77.0.1 dev va '), {
    kind: 'default-route',
    action: 'added',
    family: 'inet',
    gateway: '10.77.0.1',
    dev: 'va',
    table: null,
  });
  assert.deepEqual(parseIpMonitorLine('Deleted default via fd00:77::1 dev va metric 1024 pref medium'), {
    kind: 'default-route',
    action: 'deleted',
    family: 'inet6',
    gateway: 'fd00:77::1',
    dev: 'va',
    table: null,
  });
  const ra = parseIpMonitorLine(
    'default via fe80::1 dev wlan0 proto ra metric 600 expires 1798sec hoplimit 64 pref medium',
  );
  assert.equal(ra?.kind === 'default-route' && ra.family, 'inet6');
  const vpn = parseIpMonitorLine('default dev wg0 table 51820 scope link ');
  assert.deepEqual(vpn, {
    kind: 'default-route',
    action: 'added',
    family: 'inet',
    gateway: null,
    dev: 'wg0',
    table: '51820',
  });
  const crossFamily = parseIpMonitorLine('default via inet6 fe80::1 dev eth0 proto bird');
  assert.equal(crossFamily?.kind === 'default-route' && crossFamily.family, 'inet');
  assert.equal(crossFamily?.kind === 'default-route' && crossFamily.gateway, 'fe80::1');
});

test('other routes are ignored', () => {
  for (const line of [
    'local 10.77.0.2 dev va table local proto kernel scope host src 10.77.0.2 ',
    '10.77.0.0/24 dev va proto kernel scope link src 10.77.0.2 ',
    'broadcast 10.77.0.255 dev va table local proto kernel scope link src 10.77.0.2 ',
    'Deleted 10.77.0.0/24 dev va proto kernel scope link src 10.77.0.2 ',
    '10.88.0.0/16 via 10.77.0.1 dev va ',
    'fd00:77::/64 dev va proto kernel metric 256 pref medium',
    'multicast ff00::/8 dev va table local proto kernel metric 256 pref medium',
    'Deleted local fd00:77::2 dev va table local proto kernel metric 0 pref medium',
    'fe80::/64 dev vb proto kernel metric 256 pref medium',
  ])
    assert.equal(parseIpMonitorLine(line), null, line);
});

test('an `ip monitor label` prefix is skipped', () => {
  const e = parseIpMonitorLine('[ROUTE]default via 10.0.0.1 dev eth0 proto dhcp src 10.0.0.7 metric 100 ');
  assert.equal(e?.kind === 'default-route' && e.dev, 'eth0');
  assert.equal(parseIpMonitorLine(`[ADDR]3: va    inet 10.77.0.2/24 scope global va${LFT}`)?.kind, 'address');
});

test('hostile and malformed lines yield null and never throw', () => {
  const lines: unknown[] = [
    '',
    ' ',
    '\\',
    'Deleted ',
    'Deleted',
    'default',
    'default via',
    'default via 999.1.1.1.1 dev x',
    'default via not-an-address dev eth0',
    '3: va    inet 10.77.0.2/99 scope global va',
    '3: va    inet6 fd00::1/129 scope global',
    '3: va    inet banana/24 scope global',
    '99999999999999999999: va: <UP> mtu 1',
    '3: va@: <UP,LOWER_UP> state UP',
    'x'.repeat(MAX_LINE_LENGTH + 1),
    `3: ${'a'.repeat(MAX_LINE_LENGTH)}    inet 10.0.0.1/8`,
    '\u0000\u0001\u00ff\ud800',
    'Timestamp: Sun Dec  6 13:47:43 2026 123456 usec',
    'nsid 0 (iproute2 netns name: foo)',
    '192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE',
    undefined,
    null,
    42,
  ];
  for (let i = 0; i < 200; i++)
    lines.push(String.fromCharCode(...Array.from({ length: 40 }, (_, j) => (i * 31 + j * 7) % 128)));
  for (const line of lines) {
    assert.doesNotThrow(() => parseIpMonitorLine(line as string));
    const e = parseIpMonitorLine(line as string);
    if (typeof line === 'string' && line.length > MAX_LINE_LENGTH) assert.equal(e, null);
  }
  for (const line of lines.slice(0, 23)) assert.equal(parseIpMonitorLine(line as string), null, String(line));
});
