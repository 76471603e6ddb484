/**
 * The network monitor's driver logic on a simulated clock with a fake `ip monitor` child:
 * debounce, restart with backoff, the polling fallback, resume, stop, and a hostile child.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { NetworkInterfaceInfo } from 'node:os';
import {
  defaultRoutes,
  NetworkMonitor,
  usableAddresses,
  type MonitorTimers,
  type NetworkChange,
  type NetworkMonitorOptions,
  type NetworkSnapshot,
} from '../../../app/connect/networkMonitor.ts';

class FakeClock implements MonitorTimers {
  now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order and letting their promise chains settle. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (let i = 0; i < 1000; i++) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      await settle();
    }
    this.now = target;
    await settle();
  }
}

/** Drains the promise chains the monitor started (reads are resolved promises here). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

class FakeChild extends EventEmitter {
  readonly stdout = Object.assign(new EventEmitter(), { unrefCalled: false, unref: () => undefined });
  killedWith: string | null = null;
  unrefCalled = false;

  constructor() {
    super();
    this.stdout.unref = () => {
      this.stdout.unrefCalled = true;
    };
  }

  kill(signal?: string): boolean {
    this.killedWith = signal ?? 'SIGTERM';
    return true;
  }

  unref(): void {
    this.unrefCalled = true;
  }

  lines(...lines: string[]): void {
    this.stdout.emit('data', Buffer.from(lines.map((l) => `${l}\n`).join('')));
  }
}

const ADDR = (ip: string): string =>
  `3: wlan0    inet ${ip}/24 scope global wlan0\\       valid_lft forever preferred_lft forever`;
const LINK_UP = '3: wlan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default';
const LINK_DOWN = '3: wlan0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default';

function setup(over: Partial<NetworkMonitorOptions> = {}) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const changes: NetworkChange[] = [];
  const logs: string[] = [];
  const spawned: { file: string; args: string[] }[] = [];
  let snapshot: NetworkSnapshot = { addresses: [], defaultRouteInterfaces: [] };
  let reads = 0;
  let spawnFails = false;
  const monitor = new NetworkMonitor({
    onChange: (c) => changes.push(c),
    platform: 'linux',
    timers: clock,
    spawn: (file, args) => {
      spawned.push({ file, args });
      const child = new FakeChild();
      children.push(child);
      if (spawnFails) queueMicrotask(() => child.emit('error', new Error('spawn ip ENOENT')));
      else queueMicrotask(() => child.emit('spawn'));
      return child;
    },
    readSnapshot: async () => {
      reads++;
      return snapshot;
    },
    log: (level, message) => logs.push(`${level}: ${message}`),
    ...over,
  });
  return {
    clock,
    children,
    changes,
    logs,
    spawned,
    monitor,
    get reads() {
      return reads;
    },
    setSnapshot(s: NetworkSnapshot) {
      snapshot = s;
    },
    set spawnFails(v: boolean) {
      spawnFails = v;
    },
    latest: () => children.at(-1)!,
  };
}

const WLAN = (ip: string): NetworkSnapshot => ({
  addresses: [{ ifname: 'wlan0', family: 'IPv4', address: ip }],
  defaultRouteInterfaces: ['wlan0'],
});

test("starts one `ip -o monitor address route link` child, unref'd, and reads the baseline", async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  await settle();
  assert.deepEqual(s.spawned, [{ file: 'ip', args: ['-o', 'monitor', 'address', 'route', 'link'] }]);
  assert.equal(s.latest().unrefCalled, true);
  assert.equal(s.latest().stdout.unrefCalled, true);
  assert.equal(s.reads, 1);
  assert.equal(s.changes.length, 0, 'the baseline is not a change');
  assert.equal(s.monitor.isPolling, false);
  s.monitor.stop();
});

test('a burst of lines becomes one network-changed, 50 ms after the last line', async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  await settle();
  s.setSnapshot(WLAN('192.168.1.23'));
  s.latest().lines(`Deleted ${ADDR('10.0.0.7')}`, 'Deleted default via 10.0.0.1 dev wlan0 ');
  await s.clock.advance(40);
  s.latest().lines(ADDR('192.168.1.23'));
  await s.clock.advance(40);
  s.latest().lines('default via 192.168.1.1 dev wlan0 proto dhcp src 192.168.1.23 metric 600 ');
  await s.clock.advance(49);
  assert.equal(s.changes.length, 0, 'notified before 50 ms of quiet');
  await s.clock.advance(1);
  assert.equal(s.changes.length, 1);
  const c = s.changes[0]!;
  assert.equal(c.type, 'network-changed');
  assert.equal(c.cause, 'events');
  assert.deepEqual(
    c.events.map((e) => `${e.kind}:${e.action}`),
    ['address:deleted', 'default-route:deleted', 'address:added', 'default-route:added'],
  );
  assert.deepEqual(c.snapshot, WLAN('192.168.1.23'));
  assert.deepEqual(c.addressesAdded, [{ ifname: 'wlan0', family: 'IPv4', address: '192.168.1.23' }]);
  assert.deepEqual(c.addressesRemoved, [{ ifname: 'wlan0', family: 'IPv4', address: '10.0.0.7' }]);
  assert.equal(c.defaultRouteChanged, false, 'the same interface carries the default route');
  s.monitor.stop();
});

test('lines that are not address, link or default-route events notify nothing', async () => {
  const s = setup();
  await s.monitor.start();
  s.latest().lines(
    '10.88.0.0/16 via 10.77.0.1 dev va ',
    'local 10.77.0.2 dev va table local proto kernel scope host src 10.77.0.2 ',
    'garbage \u0000 line',
  );
  await s.clock.advance(5_000);
  assert.equal(s.changes.length, 0);
  assert.equal(s.reads, 1);
  s.monitor.stop();
});

test('a link flap notifies even when no address changed', async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  s.latest().lines(LINK_UP.replace(',UP,LOWER_UP', '').replace('state UP', 'state DOWN'), LINK_UP);
  await s.clock.advance(300);
  assert.equal(s.changes.length, 1);
  assert.deepEqual(s.changes[0]!.addressesAdded, []);
  assert.deepEqual(
    s.changes[0]!.events.map((e) => e.kind === 'link' && e.up),
    [false, true],
  );
  s.monitor.stop();
});

test('the child dies: one log line, polling every 10 s, restarts after 1 s, 2 s, 4 s; a stable child ends polling', async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  await settle();
  s.latest().emit('exit', 1, null);
  assert.equal(s.monitor.isPolling, true);
  assert.equal(s.logs.filter((l) => l.startsWith('warn:')).length, 1);
  assert.match(s.logs[0]!, /ip exited \(code 1\).*polling every 10000 ms/);

  // Restarts: the second child after 1 s, then 2 s, then 4 s, each dying at once.
  await s.clock.advance(999);
  assert.equal(s.spawned.length, 1);
  await s.clock.advance(1);
  assert.equal(s.spawned.length, 2);
  s.latest().emit('exit', null, 'SIGKILL');
  await s.clock.advance(1_999);
  assert.equal(s.spawned.length, 2);
  await s.clock.advance(1);
  assert.equal(s.spawned.length, 3);
  s.latest().emit('exit', 1, null);
  await s.clock.advance(3_999);
  assert.equal(s.spawned.length, 3);
  assert.equal(s.logs.filter((l) => l.startsWith('warn:')).length, 1, 'one log line for the whole outage');

  // Polling (t = 7 s so far): a change is noticed at the next 10 s tick; an unchanged state is not reported.
  assert.equal(s.changes.length, 0);
  s.setSnapshot(WLAN('192.168.1.23'));
  await s.clock.advance(3_001); // t = 10 s; the 4th child was started at t = 7 s
  assert.equal(s.spawned.length, 4);
  assert.equal(s.changes.length, 1);
  assert.equal(s.changes[0]!.cause, 'poll');
  assert.deepEqual(s.changes[0]!.addressesRemoved, [{ ifname: 'wlan0', family: 'IPv4', address: '10.0.0.7' }]);

  // The 4th child stays up: 10 s after it started, polling stops and the backoff resets.
  await s.clock.advance(6_999); // t = 16.999 s
  assert.equal(s.monitor.isPolling, true);
  await s.clock.advance(1); // t = 17 s
  assert.equal(s.monitor.isPolling, false);
  assert.match(s.logs.at(-1)!, /running again/);
  const readsNow = s.reads;
  await s.clock.advance(60_000);
  assert.equal(s.reads, readsNow, 'no polling while the child runs');
  s.latest().emit('exit', 1, null);
  await s.clock.advance(1_000);
  assert.equal(s.spawned.length, 5, 'the backoff starts again at 1 s');
  s.monitor.stop();
});

test('`ip` missing (spawn error, no exit): the polling fallback and restarts with backoff up to the cap', async () => {
  const s = setup({ maxBackoffMs: 8_000 });
  s.spawnFails = true;
  await s.monitor.start();
  await settle();
  assert.equal(s.monitor.isPolling, true);
  assert.match(s.logs[0]!, /ENOENT.*polling/);
  const starts: number[] = [];
  for (let i = 0; i < 8; i++) {
    const before = s.spawned.length;
    for (let step = 0; step < 100 && s.spawned.length === before; step++) await s.clock.advance(500);
    starts.push(s.clock.now);
  }
  const gaps = starts.map((t, i) => t - (i === 0 ? 0 : starts[i - 1]!));
  assert.deepEqual(gaps, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000]);
  assert.equal(s.logs.length, 1);
  s.monitor.stop();
});

test('stop() kills the child, clears every timer, and nothing is reported afterwards', async () => {
  const s = setup();
  await s.monitor.start();
  await settle();
  const child = s.latest();
  child.lines(ADDR('10.0.0.9'));
  assert.ok(s.clock.pending > 0);
  s.monitor.stop();
  assert.equal(child.killedWith, 'SIGTERM');
  assert.equal(s.clock.pending, 0);
  child.lines(ADDR('10.0.0.10'));
  child.emit('exit', null, 'SIGTERM');
  s.monitor.resumed();
  await s.clock.advance(60_000);
  assert.equal(s.changes.length, 0);
  assert.equal(s.spawned.length, 1, 'no restart after stop');
  assert.equal(s.clock.pending, 0);
  s.monitor.stop();
});

test('stop() during the polling fallback clears the poll and the restart', async () => {
  const s = setup();
  await s.monitor.start();
  await settle();
  s.latest().emit('exit', 1, null);
  assert.equal(s.clock.pending, 2, 'a poll and a restart are armed');
  s.monitor.stop();
  assert.equal(s.clock.pending, 0);
});

test('resumed() and online always notify, with the current state', async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  s.monitor.resumed();
  s.monitor.resumed('online');
  await settle();
  assert.deepEqual(
    s.changes.map((c) => c.cause),
    ['resume', 'online'],
  );
  assert.deepEqual(s.changes[0]!.snapshot, WLAN('10.0.0.7'));
  s.monitor.stop();
});

test('other platforms poll from the start and spawn nothing', async () => {
  for (const platform of ['darwin', 'win32'] as const) {
    const s = setup({ platform });
    s.setSnapshot(WLAN('10.0.0.7'));
    await s.monitor.start();
    assert.equal(s.spawned.length, 0);
    assert.equal(s.monitor.isPolling, true);
    await s.clock.advance(10_000);
    assert.equal(s.changes.length, 0, 'an unchanged state is not reported');
    s.setSnapshot(WLAN('10.0.0.8'));
    await s.clock.advance(10_000);
    assert.equal(s.changes.length, 1);
    s.monitor.stop();
    assert.equal(s.clock.pending, 0);
  }
});

test('a hostile child: split chunks, an endless line, garbage, a throwing listener', async () => {
  const s = setup({
    onChange: () => {
      throw new Error('listener bug');
    },
  });
  await s.monitor.start();
  await settle();
  s.setSnapshot(WLAN('10.0.0.10'));
  const child = s.latest();
  // One record split across chunks.
  const line = `${ADDR('10.0.0.9')}\n`;
  child.stdout.emit('data', line.slice(0, 10));
  child.stdout.emit('data', Buffer.from(line.slice(10)));
  // A line that never ends, in 1 MiB chunks: dropped up to the next newline.
  for (let i = 0; i < 4; i++) child.stdout.emit('data', 'x'.repeat(1 << 20));
  child.stdout.emit('data', `tail of the endless line\n\u0000\u00ff\r\n${ADDR('10.0.0.10')}\r\n`);
  await s.clock.advance(300);
  assert.equal(s.reads, 2, 'one read for the burst');
  assert.match(s.logs.at(-1)!, /listener threw: listener bug/);
  s.monitor.stop();
});

test('a failing state read is logged, not thrown, and the monitor keeps going', async () => {
  let fail = true;
  const s = setup({
    readSnapshot: async () => {
      if (fail) throw new Error('ip: permission denied');
      return WLAN('10.0.0.7');
    },
  });
  await s.monitor.start();
  await settle();
  assert.match(s.logs[0]!, /could not read the network state: ip: permission denied/);
  fail = false;
  s.latest().lines(ADDR('10.0.0.7'));
  await s.clock.advance(300);
  assert.equal(s.changes.length, 1);
  s.monitor.stop();
});

test('a stream of lines less than 50 ms apart still notifies 300 ms after the first one', async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  s.setSnapshot(WLAN('192.168.1.23'));
  s.latest().lines(ADDR('192.168.1.23'));
  for (let i = 0; i < 7; i++) {
    await s.clock.advance(40);
    s.latest().lines(ADDR('192.168.1.23'));
  }
  await s.clock.advance(19);
  assert.equal(s.changes.length, 0, 'notified before the maximum wait');
  await s.clock.advance(1);
  assert.equal(s.changes.length, 1, 'the maximum wait of 300 ms from the first line did not notify');
  assert.equal(s.changes[0]!.events.length, 8);
  // The lines keep coming: the next burst starts afresh and is again bounded by 300 ms.
  for (let t = 0; t < 300; t += 40) {
    s.latest().lines(ADDR('192.168.1.23'), LINK_DOWN);
    await s.clock.advance(40);
  }
  assert.equal(s.changes.length, 2);
  s.monitor.stop();
  assert.equal(s.clock.pending, 0);
});

test('link lines that change nothing (a Wi-Fi scan) notify nothing; a link going down notifies once', async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  s.latest().lines(LINK_UP, LINK_UP, LINK_UP);
  await s.clock.advance(300);
  s.latest().lines(LINK_UP);
  await s.clock.advance(300);
  assert.equal(s.changes.length, 0, 'link lines without a change notified');
  assert.equal(s.reads, 3, 'each burst is still read');
  s.latest().lines(LINK_DOWN, LINK_DOWN);
  await s.clock.advance(300);
  assert.equal(s.changes.length, 1, 'the link going down did not notify once');
  s.latest().lines(LINK_DOWN);
  await s.clock.advance(300);
  assert.equal(s.changes.length, 1, 'a link that stays down notified again');
  s.monitor.stop();
});

test('a link first seen down, or deleted, counts as going down; an address burst without a change notifies nothing', async () => {
  const s = setup();
  s.setSnapshot(WLAN('10.0.0.7'));
  await s.monitor.start();
  s.latest().lines(ADDR('10.0.0.7'));
  await s.clock.advance(300);
  assert.equal(s.changes.length, 0, 'a burst whose snapshot did not change notified');
  s.latest().lines(LINK_DOWN);
  await s.clock.advance(300);
  assert.equal(s.changes.length, 1);
  s.latest().lines(LINK_UP);
  await s.clock.advance(300);
  assert.equal(s.changes.length, 2);
  s.latest().lines(`Deleted ${LINK_UP}`);
  await s.clock.advance(300);
  assert.equal(s.changes.length, 3);
  s.monitor.stop();
});

test('default routes: interfaces and gateways, multipath and IPv6 next hops included, without duplicates', () => {
  const output = [
    'default via 192.168.1.1 dev wlan0 proto dhcp src 192.168.1.23 metric 600 ',
    'default proto static metric 50 \\\tnexthop via 10.0.0.1 dev eth0 weight 1 \\\tnexthop via 10.0.1.1 dev eth1 weight 1',
    'default via inet6 fe80::1 dev eth2 proto static',
    'default via fe80::1 dev wlan0 proto ra metric 600 pref medium',
    'default dev wg0 scope link',
    '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.5',
  ].join('\n');
  assert.deepEqual(defaultRoutes(output), {
    defaultRouteInterfaces: ['wlan0', 'eth0', 'eth1', 'eth2', 'wg0'],
    defaultGateways: ['192.168.1.1', '10.0.0.1', '10.0.1.1', 'fe80::1'],
  });
  assert.deepEqual(defaultRoutes(''), { defaultRouteInterfaces: [], defaultGateways: [] });
});

test('usable addresses carry the prefix length the platform gives', () => {
  const info = (address: string, family: 'IPv4' | 'IPv6', cidr: string | null) => ({
    address,
    family,
    cidr,
    netmask: '',
    mac: '00:00:00:00:00:00',
    internal: false,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  });
  assert.deepEqual(
    usableAddresses({
      wlan0: [
        info('192.168.1.23', 'IPv4', '192.168.1.23/24'),
        info('2001:db8:1:2::17', 'IPv6', '2001:db8:1:2::17/64'),
        info('10.9.9.9', 'IPv4', null),
      ] as NetworkInterfaceInfo[],
    }),
    [
      { ifname: 'wlan0', family: 'IPv4', address: '192.168.1.23', prefixLength: 24 },
      { ifname: 'wlan0', family: 'IPv6', address: '2001:db8:1:2::17', prefixLength: 64 },
      { ifname: 'wlan0', family: 'IPv4', address: '10.9.9.9' },
    ],
  );
});
