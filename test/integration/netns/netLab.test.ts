/**
 * The namespace toolkit on a real kernel: a delay of 25 ms per crossing makes 50 ms of RTT
 * (ping), loss and "UDP blocked" drop what they should, and cleanup leaves no namespace behind.
 * Needs root, iproute2, iptables and python3; skipped otherwise, with the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { NetLab } from '../../netns/netLab.ts';
import type { NetNamespace } from '../../netns/netNamespace.ts';
import { netnsSkipReason } from '../../netns/requirements.ts';

const skip = netnsSkipReason() || (spawnSync('ping', ['-V']).status === 0 ? false : 'needs ping (iputils-ping)');

/** ping's average RTT in ms, and how many of `count` came back. */
function ping(from: NetNamespace, to: string, count: number): { avg: number; received: number } {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', from.name, 'ping', '-n', '-q', '-c', String(count), '-i', '0.05', '-W', '1', to],
    {
      encoding: 'utf8',
    },
  );
  const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? NaN);
  const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1] ?? NaN);
  return { avg, received };
}

describe('network namespace toolkit (test/netns)', { skip, timeout: 60_000 }, () => {
  let lab: NetLab;
  let a: NetNamespace;
  let router: NetNamespace;
  let b: NetNamespace;

  before(() => {
    lab = NetLab.create();
    a = lab.namespace('a');
    router = lab.namespace('r');
    b = lab.namespace('b');
    lab.link(a, 'eth0', '10.202.1.2/24', router, 'a', '10.202.1.1/24');
    lab.link(router, 'b', '10.202.2.1/24', b, 'eth0', '10.202.2.2/24');
    a.defaultRoute('10.202.1.1');
    b.defaultRoute('10.202.2.1');
    router.enableForwarding();
  });

  after(() => lab.cleanup());

  it('routes through the router without delay', () => {
    const { avg, received } = ping(a, '10.202.2.2', 5);
    assert.equal(received, 5);
    assert.ok(avg < 5, `RTT ${avg} ms without delay`);
  });

  it('25 ms per crossing on the router-b link gives 50±3 ms of RTT, and removing it restores the link', async () => {
    const rules = await router.delay({ dev: 'b', out: 25, in: 25 });
    const delayed = ping(a, '10.202.2.2', 20);
    assert.equal(delayed.received, 20);
    assert.ok(Math.abs(delayed.avg - 50) <= 3, `RTT ${delayed.avg} ms, expected 50±3`);
    for (const r of rules) r.remove();
    const plain = ping(a, '10.202.2.2', 5);
    assert.ok(plain.avg < 5, `RTT ${plain.avg} ms after the delay was removed`);
  });

  it('delays a whole namespace (every interface but lo) per direction', async () => {
    const rules = await b.delay({ out: 10 });
    const { avg } = ping(a, '10.202.2.2', 10);
    assert.ok(Math.abs(avg - 10) <= 3, `RTT ${avg} ms, expected 10±3`);
    for (const r of rules) r.remove();
  });

  it('loss drops about the asked share, and blockUdp drops UDP only', () => {
    const loss = router.loss('out', 0.5, 'b');
    const lossy = ping(a, '10.202.2.2', 60);
    loss.remove();
    // 60 draws at 0.5: 30±15 covers far beyond 3 sigma.
    assert.ok(lossy.received >= 15 && lossy.received <= 45, `${lossy.received}/60 came back at 50% loss`);

    const block = router.blockUdp('out', { dev: 'b' });
    assert.equal(ping(a, '10.202.2.2', 3).received, 3, 'ICMP still passes');
    const udp = spawnSync('ip', ['netns', 'exec', a.name, 'python3', '-c', UDP_ECHO_PROBE, '10.202.2.2'], {
      encoding: 'utf8',
    });
    block.remove();
    assert.equal(udp.stdout.trim(), 'timeout', udp.stderr);
  });

  it("cleanup removes its namespaces, and a dead run's leftovers are removed by the next", () => {
    const other = NetLab.create();
    const ns = other.namespace('x');
    assert.ok(run('ip', 'netns', 'list').includes(ns.name));
    other.cleanup();
    assert.ok(!run('ip', 'netns', 'list').includes(ns.name));
    // A namespace named for a process that is gone (pid 2^22 - 1 exceeds the default pid_max).
    spawnSync('ip', ['netns', 'add', 'nl4194303-stale']);
    NetLab.removeLeftovers();
    assert.ok(!run('ip', 'netns', 'list').includes('nl4194303-stale'));
  });
});

function run(cmd: string, ...args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout;
}

/**
 * Sends one UDP datagram to port 9 (discard: no listener, so the kernel would answer with ICMP
 * port unreachable) and prints "refused" when that answer came, "timeout" when nothing did.
 */
const UDP_ECHO_PROBE = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.connect((sys.argv[1], 9))
s.send(b"x")
try:
    s.recv(10)
    print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
`;
