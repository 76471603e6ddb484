/**
 * `NetNamespace.delayPorts` on a real kernel: 25 ms per crossing on loopback for the listed ports
 * only (as `npm run bench` puts a lab's client-facing ports 50 ms away) makes a TCP connect and a
 * UDP round trip to those ports take 50 ms, while other ports stay instant.
 * Needs root, iproute2, iptables and python3; skipped otherwise, with the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NetLab } from '../../netns/netLab.ts';
import type { NetNamespace } from '../../netns/netNamespace.ts';
import { netnsSkipReason } from '../../netns/requirements.ts';

const DELAYED = 29501;
const INSTANT = 29502;

/**
 * Inside the namespace: TCP and UDP echo servers on both ports, then the median of five TCP
 * connects and five UDP round trips to each, as JSON.
 */
const PROBE = `
  const net = require('node:net');
  const dgram = require('node:dgram');
  const ports = [${DELAYED}, ${INSTANT}];
  const med = (xs) => xs.sort((a, b) => a - b)[2];
  (async () => {
    const closers = [];
    for (const port of ports) {
      const tcp = net.createServer((s) => s.destroy());
      await new Promise((r) => tcp.listen(port, '127.0.0.1', r));
      const udp = dgram.createSocket('udp4');
      udp.on('message', (m, r) => udp.send(m, r.port, r.address));
      await new Promise((r) => udp.bind(port, '127.0.0.1', r));
      closers.push(() => { tcp.close(); udp.close(); });
    }
    const out = {};
    for (const port of ports) {
      const tcp = [];
      const udp = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await new Promise((ok, fail) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); ok(); }); s.on('error', fail); });
        tcp.push(performance.now() - t0);
        const c = dgram.createSocket('udp4');
        const t1 = performance.now();
        await new Promise((ok) => { c.once('message', ok); c.send('x', port, '127.0.0.1'); });
        udp.push(performance.now() - t1);
        c.close();
      }
      out[port] = { tcp: med(tcp), udp: med(udp) };
    }
    for (const close of closers) close();
    console.log(JSON.stringify(out));
  })();`;

describe('NetNamespace.delayPorts (test/netns)', { skip: netnsSkipReason(), timeout: 30_000 }, () => {
  let lab: NetLab;
  let ns: NetNamespace;

  before(() => {
    lab = NetLab.create();
    ns = lab.namespace('ports');
  });

  after(() => lab.cleanup());

  it('puts the listed ports 50 ms away over loopback (25 ms per crossing) and leaves the others instant', async () => {
    await ns.delayPorts({ dev: 'lo', ms: 25, tcp: [DELAYED], udp: [DELAYED] });
    const rtt = JSON.parse(ns.exec(process.execPath, '-e', PROBE)) as Record<string, { tcp: number; udp: number }>;
    const delayed = rtt[DELAYED]!;
    const instant = rtt[INSTANT]!;
    assert.ok(Math.abs(delayed.tcp - 50) <= 5, `TCP connect to the delayed port: ${delayed.tcp} ms, expected 50±5`);
    assert.ok(Math.abs(delayed.udp - 50) <= 5, `UDP round trip to the delayed port: ${delayed.udp} ms, expected 50±5`);
    assert.ok(instant.tcp < 5, `TCP connect to another port: ${instant.tcp} ms`);
    assert.ok(instant.udp < 5, `UDP round trip to another port: ${instant.udp} ms`);
  });
});
