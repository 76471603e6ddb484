/**
 * The roaming scenario of issue 11, shared by test/integration/quic/roamingNetns.test.ts (which
 * asserts on it) and test/bench/roamingTable.ts (which measures it), in namespaces of a `NetLab`:
 *
 *   client ── wifi 10.201.1.0/24 ──── router ── 10.201.3.0/24, RTT/2 each way ── server
 *          └─ hotspot 10.201.2.0/24 ─┘
 *
 * Both ends run test/netns/quicStreamPeer.ts and send a numbered message every `intervalMs` on one
 * stream. Mid-conversation the client's Wi-Fi goes (link down, address deleted), `outageMs` later
 * the hotspot comes up with its own address and default route, and the client either moves its
 * endpoint to a new socket (`rebind`) or only marks the moment (the kernel picks the new source
 * address under the same socket).
 */
import { fileURLToPath } from 'node:url';
import type { NetLab } from './netLab.ts';
import type { NetNamespace } from './netNamespace.ts';
import { JsonLines, type JsonMessage } from './jsonLines.ts';
import type { PeerReport } from './quicStreamPeer.ts';

const PEER = fileURLToPath(new URL('./quicStreamPeer.ts', import.meta.url));

/** The server's address, and the client's on the hotspot (what the server sees after the move). */
export const SERVER_ADDRESS = '10.201.3.2';
export const HOTSPOT_ADDRESS = '10.201.2.2';

/**
 * Makes the client, router and server namespaces: both client links exist but are down without
 * an address (call `joinNetwork` to pick one), the server routes via the router, and the router
 * delays the server link by `rttMs / 2` each way.
 */
export async function roamingTopology(
  lab: NetLab,
  rttMs: number,
): Promise<{ client: NetNamespace; server: NetNamespace }> {
  const client = lab.namespace('client');
  const router = lab.namespace('router');
  const server = lab.namespace('server');
  lab.link(client, 'wifi', null, router, 'wifi', '10.201.1.1/24', { upA: false });
  lab.link(client, 'hotspot', null, router, 'hotspot', '10.201.2.1/24', { upA: false });
  lab.link(router, 'srv', '10.201.3.1/24', server, 'eth0', `${SERVER_ADDRESS}/24`);
  router.enableForwarding();
  server.defaultRoute('10.201.3.1');
  await router.delay({ dev: 'srv', out: rttMs / 2, in: rttMs / 2 });
  return { client, server };
}

/** The client's network: Wi-Fi or the hotspot, the other one gone (link down, no address). */
export function joinNetwork(client: NetNamespace, network: 'wifi' | 'hotspot'): void {
  const [gone, cidr, gateway] =
    network === 'wifi' ? ['hotspot', '10.201.1.2/24', '10.201.1.1'] : ['wifi', `${HOTSPOT_ADDRESS}/24`, '10.201.2.1'];
  const other = gone === 'wifi' ? '10.201.1.2/24' : `${HOTSPOT_ADDRESS}/24`;
  client.setLink(gone, 'down');
  if (client.ip('-o', 'addr', 'show', 'dev', gone).includes(other.split('/')[0]!)) client.removeAddress(gone, other);
  client.addAddress(network, cidr);
  client.setLink(network, 'up');
  client.defaultRoute(gateway);
}

export interface RoamOptions {
  intervalMs: number;
  /** How long the client has no network between leaving Wi-Fi and joining the hotspot. */
  outageMs: number;
  /** true: the client's endpoint moves to a new socket; false: the socket stays. */
  rebind: boolean;
}

/** What one conversation produced: both peers' reports and the wall-clock moments of the move. */
export interface Roamed {
  client: PeerReport;
  server: PeerReport;
  /** When the hotspot's address and route were in place. */
  usableAt: number;
  /** When the client had rebound (or marked the moment). */
  reboundAt: number;
}

/** Wall-clock ms, the clock the peers report in (shared by all namespaces). */
function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One conversation, the client on Wi-Fi (join it first), with a move to the hotspot in the middle:
 * 30 messages each way before, 50 more at the client after the first delivered over the new path.
 * Rejects (with what it waited for) if a step never happens; both peers are ended before it returns.
 */
export async function roamOnce(client: NetNamespace, server: NetNamespace, options: RoamOptions): Promise<Roamed> {
  const interval = String(options.intervalMs);
  const srv = new JsonLines(server.spawn(process.execPath, [PEER, 'server', interval]));
  let cli: JsonLines | null = null;
  try {
    const { port } = await srv.waitFor<JsonMessage & { port: number }>(
      (m) => m.event === 'listening',
      'the server listening',
    );
    cli = new JsonLines(client.spawn(process.execPath, [PEER, 'client', SERVER_ADDRESS, String(port), interval]));
    await cli.waitFor((m) => m.event === 'established', 'the handshake');
    const progress = (n: number) => (m: JsonMessage) => m.event === 'progress' && (m.received as number) >= n;
    // A conversation under way over Wi-Fi, both directions.
    await cli.waitFor(progress(30), '30 messages at the client over Wi-Fi');
    await srv.waitFor(progress(30), '30 messages at the server over Wi-Fi');

    // Wi-Fi goes away; for outageMs (scenario time, not a wait for an event) there is no
    // network, and what both ends send meanwhile is lost; then the hotspot is joined.
    client.setLink('wifi', 'down');
    client.removeAddress('wifi', '10.201.1.2/24');
    await new Promise((resolve) => setTimeout(resolve, options.outageMs));
    joinNetwork(client, 'hotspot');
    const usableAt = wallNow();
    cli.send({ cmd: options.rebind ? 'rebind' : 'mark' });
    const rebound = await cli.waitFor<JsonMessage & { at: number }>((m) => m.event === 'rebound', 'the rebind');
    // The conversation goes on over the hotspot: 50 more messages each way after the move.
    const moved = (m: JsonMessage) => m.event === 'progress' && (m.at as number) > rebound.at;
    const firstAfter = await cli.waitFor(moved, 'data at the client after the move');
    await srv.waitFor(moved, 'data at the server after the move');
    await cli.waitFor(progress((firstAfter.received as number) + 50), '50 more messages at the client');

    cli.send({ cmd: 'finish' });
    const [c, s] = await Promise.all([
      cli.waitFor<JsonMessage & PeerReport>((m) => m.event === 'report', "the client's report"),
      srv.waitFor<JsonMessage & PeerReport>((m) => m.event === 'report', "the server's report"),
    ]);
    return { client: c, server: s, usableAt, reboundAt: rebound.at };
  } finally {
    cli?.child.kill();
    srv.child.kill();
  }
}
