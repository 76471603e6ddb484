/**
 * XMPP-level roaming (issue 11 "Tests"): an account logged in over QUIC keeps its session while
 * the client's address changes mid-conversation, in network namespaces made by the test:
 *
 *   client ── wifi 10.203.1.0/24 ───── router ── up 10.203.3.0/24, 25 ms each way ── root namespace
 *          └─ hotspot 10.203.2.0/24 ─┘                                              (the lab's Prosody,
 *                                                                                   the test's gateway)
 *
 * The test process (root namespace, with the lab) runs its own `QuicGateway` on the root side of
 * the router link, forwarding to the lab's Prosody, and logs bob@quic-a.test in over TCP
 * (STARTTLS). In the client namespace a child (roamingClient.ts) logs alice@quic-a.test in over
 * QUIC through the connector, a `QuicSessions` pool and an `AccountSession`, and runs Quiver's real
 * roaming path: a `NetworkMonitor` (`ip monitor` in that namespace) feeding `Roaming`, which moves
 * the QUIC session and pings the account. Both send a numbered message every 50 ms while Wi-Fi
 * goes (link down, address deleted) and, 300 ms later, the hotspot comes up with another address
 * and default route; nobody tells the client: its monitor notices.
 *
 * Expected over QUIC: no new handshake (one connection at the gateway, one QUIC connection id),
 * no new login (one 'online', the same bound JID), every message in both directions delivered
 * exactly once and in order, and on the client's record a 'migrated' and a 'checked' path event.
 * The roaming gap (from the new address being usable to the first message delivered after it,
 * each direction) is printed. Needs root, iproute2, iptables, python3 and the lab; skipped
 * otherwise, with the reason. The namespaces, their links, rules and processes go in `after`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { establish, type Established } from '../../app/connect/connector.ts';
import { buildConnectDeps } from '../../app/connect/connectDeps.ts';
import { QuicGateway } from '../../app/gateway/quicGateway.ts';
import type { GatewayLogRecord } from '../../app/gateway/gatewayLog.ts';
import { NetLab } from '../netns/netLab.ts';
import type { NetNamespace } from '../netns/netNamespace.ts';
import { JsonLines, type JsonMessage } from '../netns/jsonLines.ts';
import { netnsSkipReason } from '../netns/requirements.ts';
import { attempt, run } from '../netns/run.ts';
import { labFromEnv, labGatewayOptions } from '../support/lab.ts';
import type { ClientReport, RoamingClientConfig } from './roamingClient.ts';

const CLIENT = fileURLToPath(new URL('./roamingClient.ts', import.meta.url));
const INTERVAL_MS = 50;
const RTT_MS = 50;
/** How long the client has no network between leaving Wi-Fi and joining the hotspot. */
const OUTAGE_MS = 300;
const WAIT_MS = 20_000;
const ALICE = 'alice@quic-a.test';
const BOB = 'bob@quic-a.test';
const ROOT_ADDRESS = '10.203.3.1';
const ROUTER_ADDRESS = '10.203.3.2';
const WIFI = { cidr: '10.203.1.2/24', gateway: '10.203.1.1' };
const HOTSPOT = { cidr: '10.203.2.2/24', gateway: '10.203.2.1' };

function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

function skipReason(): string | false {
  const netns = netnsSkipReason();
  if (netns) return netns;
  if (!process.env.QUIVER_LAB) return 'needs the lab: run it as `node scripts/withLab.ts node --test <this file>`';
  return false;
}

/** Bob's side in this process: the numbers of the `a2b` messages that arrived, and when. */
class Peer {
  readonly received: { n: number; at: number }[] = [];
  #waiters = new Set<() => void>();
  #ended: string | null = null;
  readonly session: Established;

  constructor(session: Established) {
    this.session = session;
    session.driver.setEventHandler((event) => {
      if (event.type === 'closed') {
        this.#ended = event.error?.message ?? 'closed';
        for (const w of this.#waiters) w();
        return;
      }
      if (event.type !== 'message' || event.body === null) return;
      const m = /^a2b (\d+)$/.exec(event.body);
      if (!m) return;
      this.received.push({ n: Number(m[1]), at: wallNow() });
      for (const w of this.#waiters) w();
    });
  }

  /** Resolves once `done()` holds (checked on each message); rejects when bob's stream ends or after WAIT_MS. */
  until(done: () => boolean, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.#ended !== null) finish(new Error(`bob's stream ended (${this.#ended}) before ${what}`));
        else if (done()) finish(null);
      };
      const finish = (error: Error | null): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new Error(`bob: ${what} did not happen within ${WAIT_MS} ms (${this.received.length} received)`)),
        WAIT_MS,
      );
      this.#waiters.add(check);
    });
  }
}

describe(
  'XMPP roaming over QUIC from Wi-Fi to a hotspot (network namespaces, 50 ms RTT, the lab)',
  { skip: skipReason(), timeout: 120_000 },
  () => {
    let netlab: NetLab;
    let client: NetNamespace;
    let rootDev: string;
    let gateway: QuicGateway | null = null;
    const gatewayLog: GatewayLogRecord[] = [];
    let bob: Peer | null = null;
    let bobSender: NodeJS.Timeout | null = null;
    let alice: JsonLines | null = null;

    before(async () => {
      netlab = NetLab.create();
      client = netlab.namespace('client');
      const router = netlab.namespace('router');
      netlab.link(client, 'wifi', null, router, 'wifi', `${WIFI.gateway}/24`, { upA: false });
      netlab.link(client, 'hotspot', null, router, 'hotspot', `${HOTSPOT.gateway}/24`, { upA: false });
      // The router's uplink ends in the root namespace, where the lab and the gateway run. The veth
      // pair goes with the router's namespace on cleanup (and the root routes through it too).
      rootDev = `${netlab.prefix}up`.slice(0, 15);
      run('ip', 'link', 'add', 'name', rootDev, 'type', 'veth', 'peer', 'name', 'up', 'netns', router.name);
      run('ip', 'addr', 'add', `${ROOT_ADDRESS}/24`, 'dev', rootDev);
      run('ip', 'link', 'set', 'dev', rootDev, 'up');
      router.addAddress('up', `${ROUTER_ADDRESS}/24`);
      router.setLink('up', 'up');
      router.defaultRoute(ROOT_ADDRESS);
      router.enableForwarding();
      for (const net of ['10.203.1.0/24', '10.203.2.0/24'])
        run('ip', 'route', 'replace', net, 'via', ROUTER_ADDRESS, 'dev', rootDev);
      await router.delay({ dev: 'up', out: RTT_MS / 2, in: RTT_MS / 2 });
      join('wifi');
    });

    after(async () => {
      if (bobSender) clearInterval(bobSender);
      alice?.child.kill('SIGKILL');
      netlab?.cleanup();
      // Normally gone with the router's namespace; a half-built setup may have left it.
      if (rootDev && run('ip', '-o', 'link', 'show').includes(`${rootDev}@`)) attempt('ip', 'link', 'del', rootDev);
      bob?.session.driver.destroy();
      await gateway?.close();
    });

    /** The client's network: Wi-Fi or the hotspot, the other one gone (link down, no address). */
    function join(network: 'wifi' | 'hotspot'): void {
      const [next, gone] = network === 'wifi' ? [WIFI, HOTSPOT] : [HOTSPOT, WIFI];
      const goneDev = network === 'wifi' ? 'hotspot' : 'wifi';
      client.setLink(goneDev, 'down');
      if (client.ip('-o', 'addr', 'show', 'dev', goneDev).includes(gone.cidr.split('/')[0]!))
        client.removeAddress(goneDev, gone.cidr);
      client.addAddress(network, next.cidr);
      client.setLink(network, 'up');
      client.defaultRoute(next.gateway);
    }

    it('keeps the session, its QUIC connection and every message when the address changes', async () => {
      const lab = labFromEnv();
      gateway = await QuicGateway.start({
        listen: { address: ROOT_ADDRESS, port: 0 },
        ...labGatewayOptions(lab),
        log: (record) => void gatewayLog.push(record),
        verbose: true,
      });

      // Bob, over TCP to the lab.
      const bobPassword = lab.users[BOB];
      const alicePassword = lab.users[ALICE];
      assert.ok(bobPassword && alicePassword, 'the lab has alice and bob on quic-a.test');
      const bobDeps = buildConnectDeps(
        { resolver: lab.resolver, resolverValidates: false, extraCaPem: lab.caPem, transport: 'starttls' },
        { resolver: null, extraCaPem: null },
        () => undefined,
        { posh: false },
      );
      bob = new Peer(
        await establish({ jid: BOB, password: bobPassword, preference: 'starttls', accountId: null }, bobDeps),
      );
      bob.session.driver.sendPresence();

      // Alice, over QUIC from the client namespace.
      const config: RoamingClientConfig = {
        jid: ALICE,
        password: alicePassword,
        gateway: gateway.address,
        caPem: lab.caPem,
        intervalMs: INTERVAL_MS,
      };
      alice = new JsonLines(client.spawn(process.execPath, [CLIENT, JSON.stringify(config)]));
      const online = await alice.waitFor<JsonMessage & { boundJid: string }>(
        (m) => m.event === 'status' && m.status === 'online',
        'alice online over QUIC',
      );
      const aliceJid = online.boundJid;
      assert.match(aliceJid, /^alice@quic-a\.test\//);
      const bobJid = bob.session.boundJid;

      // The conversation: both directions, every 50 ms.
      let bobSent = 0;
      const peer = bob;
      bobSender = setInterval(() => {
        if (peer.session.driver.state !== 'online') return;
        peer.session.driver.sendMessage({ to: aliceJid, body: `b2a ${bobSent}`, id: randomUUID(), type: 'chat' });
        bobSent++;
      }, INTERVAL_MS);
      alice.send({ cmd: 'send', to: bobJid });
      const aliceGot = (n: number) => (m: JsonMessage) => m.event === 'received' && (m.n as number) >= n;
      await alice.waitFor(aliceGot(20), '20 messages at alice over Wi-Fi');
      await bob.until(() => bob!.received.length >= 20, '20 messages at bob over Wi-Fi');

      // Wi-Fi goes away; for OUTAGE_MS (scenario time, not a wait for an event) there is no
      // network; then the hotspot is joined. The client is not told: its monitor sees it.
      client.setLink('wifi', 'down');
      client.removeAddress('wifi', WIFI.cidr);
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      join('hotspot');
      const usableAt = wallNow();
      const hotspotAddress = HOTSPOT.cidr.split('/')[0]!;

      // Roaming noticed the hotspot: the session moved and the account answered its ping.
      const migrated = await alice.waitFor<JsonMessage & { wallAt: number }>(
        (m) => m.event === 'path' && m.kind === 'migrated' && String(m.to).startsWith(hotspotAddress),
        'a migration to the hotspot address',
      );
      await alice.waitFor(
        (m) => m.event === 'path' && m.kind === 'checked' && String(m.to).startsWith(hotspotAddress),
        'the liveness check after the move',
      );
      const bobAt = bob.received.length;
      const aliceAfter = await alice.waitFor<JsonMessage & { n: number }>(
        (m) => m.event === 'received' && (m.at as number) > migrated.wallAt,
        'a message at alice after the move',
      );
      await alice.waitFor(aliceGot(aliceAfter.n + 40), '40 more messages at alice over the hotspot');
      await bob.until(() => bob!.received.length >= bobAt + 40, '40 more messages at bob over the hotspot');

      // The end of the conversation: both stop, and everything sent must arrive.
      clearInterval(bobSender);
      bobSender = null;
      alice.send({ cmd: 'stop-sending' });
      const stopped = await alice.waitFor<JsonMessage & { sent: number }>(
        (m) => m.event === 'sending-stopped',
        'alice stopping',
      );
      await bob.until(() => bob!.received.length >= stopped.sent, `all ${stopped.sent} of alice's messages at bob`);
      if (bobSent > 0) await alice.waitFor(aliceGot(bobSent - 1), `all ${bobSent} of bob's messages at alice`);
      assert.equal(gateway.connectionCount, 1, 'one QUIC connection at the gateway, still up');
      alice.send({ cmd: 'finish' });
      const report = await alice.waitFor<JsonMessage & ClientReport>((m) => m.event === 'report', "alice's report");

      // No new handshake.
      const opens = gatewayLog.filter((r) => r.type === 'open');
      assert.equal(opens.length, 1, `one QUIC handshake at the gateway (${JSON.stringify(gatewayLog)})`);
      assert.equal(report.records.length, 1, 'one connection record: no reconnection');
      const record = report.records[0]!;
      assert.ok(record.quicConnectionId, 'the record names its QUIC connection');
      assert.equal(record.transport, 'quic');
      assert.equal(report.pool.connections, 1, "one connection in alice's pool");
      // No new login.
      const onlines = report.statuses.filter((s) => s.status === 'online');
      assert.deepEqual(onlines, [{ status: 'online', boundJid: aliceJid }], 'one login, the same bound JID');
      // Every message once, in order.
      const inOrder = (n: number) => Array.from({ length: n }, (_, i) => i);
      assert.deepEqual(
        bob.received.map((r) => r.n),
        inOrder(stopped.sent),
        'alice → bob: every message once, in order',
      );
      assert.deepEqual(report.received, inOrder(bobSent), 'bob → alice: every message once, in order');
      // What roaming stored on the record.
      const kinds = report.pathEvents.filter((p) => p.recordId === record.id).map((p) => p.event.kind);
      assert.ok(kinds.includes('migrated'), `a 'migrated' path event (${kinds.join(', ')})`);
      assert.ok(kinds.includes('checked'), `a 'checked' path event (${kinds.join(', ')})`);
      assert.ok(!kinds.includes('reconnected'), `no 'reconnected' path event (${kinds.join(', ')})`);

      const up = bob.received.find((r) => r.at > usableAt)!.at - usableAt;
      const firstDown = await alice.waitFor<JsonMessage & { at: number }>(
        (m) => m.event === 'received' && (m.at as number) > usableAt,
        'a message at alice after the hotspot was usable',
      );
      const down = firstDown.at - usableAt;
      console.log(
        `XMPP roaming gap at ${RTT_MS} ms RTT: alice → bob ${up.toFixed(1)} ms, bob → alice ${down.toFixed(1)} ms ` +
          `(Roaming reported the move ${(migrated.wallAt - usableAt).toFixed(1)} ms after the hotspot was usable, ` +
          `after ${OUTAGE_MS} ms without network; ${stopped.sent} + ${bobSent} messages, none lost or repeated; ` +
          `path events: ${kinds.join(', ')})`,
      );
      for (const { event } of report.pathEvents)
        console.log(
          `  ${event.kind}: ${event.from ?? '-'} -> ${event.to ?? '-'}, RTT ${event.rttBeforeMs ?? '-'} -> ${event.rttAfterMs ?? '-'} ms`,
        );
    });
  },
);
