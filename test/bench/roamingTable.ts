/**
 * `npm run bench`, table B (issue 11): the QUIC roaming gap at 50 ms RTT, measured as
 * test/integration/quic/roamingNetns.test.ts does, in network namespaces made here:
 *
 *   client ── wifi 10.201.1.0/24 ──── router ── 10.201.3.0/24, 25 ms each way ── server
 *          └─ hotspot 10.201.2.0/24 ─┘
 *
 * Both ends send a numbered message every 10 ms on one stream (test/netns/quicStreamPeer.ts).
 * Mid-conversation the client's Wi-Fi goes, 300 ms later the hotspot comes up with another
 * address and route, and the client's endpoint moves to a new socket (what Quiver does when it
 * notices the change). The gap, each direction: from the new address being usable to the first
 * message delivered over it. Each run also checks one handshake and every message exactly once.
 */
import { fileURLToPath } from 'node:url';
import { NetLab } from '../netns/netLab.ts';
import type { NetNamespace } from '../netns/netNamespace.ts';
import { JsonLines, type JsonMessage } from '../netns/jsonLines.ts';
import type { PeerReport } from '../netns/quicStreamPeer.ts';
import { netnsSkipReason } from '../netns/requirements.ts';
import { formatTable, median } from './table.ts';

const PEER = fileURLToPath(new URL('../netns/quicStreamPeer.ts', import.meta.url));
const INTERVAL_MS = 10;
const RTT_MS = 50;
const OUTAGE_MS = 300;
const RUNS = Number(process.env.BENCH_ROAMING_RUNS ?? 3);

interface Run {
  upMs: number;
  downMs: number;
  handshakes: number;
  /** Messages lost or delivered twice / out of order, both directions. */
  faults: number;
  messages: number;
}

function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Prints table B, or why it was skipped. */
export async function roamingTable(): Promise<void> {
  const title = `QUIC roaming gap at ${RTT_MS} ms RTT (new socket after a Wi-Fi → hotspot move, ${OUTAGE_MS} ms without network)`;
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`${title}: skipped, ${skip}.`);
    return;
  }
  const net = NetLab.create();
  try {
    const client = net.namespace('client');
    const router = net.namespace('router');
    const server = net.namespace('server');
    net.link(client, 'wifi', null, router, 'wifi', '10.201.1.1/24', { upA: false });
    net.link(client, 'hotspot', null, router, 'hotspot', '10.201.2.1/24', { upA: false });
    net.link(router, 'srv', '10.201.3.1/24', server, 'eth0', '10.201.3.2/24');
    router.enableForwarding();
    server.defaultRoute('10.201.3.1');
    await router.delay({ dev: 'srv', out: RTT_MS / 2, in: RTT_MS / 2 });

    const runs: Run[] = [];
    const errors: string[] = [];
    for (let r = 0; r < RUNS; r++) {
      try {
        runs.push(await roam(client, server));
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    console.log(
      `${title}: median of ${runs.length} runs${errors.length ? ` (${errors.length} failed: ${errors[0]})` : ''}.`,
    );
    if (runs.length === 0) return;
    const up = median(runs.map((x) => x.upMs));
    const down = median(runs.map((x) => x.downMs));
    const faults = runs.reduce((sum, x) => sum + x.faults, 0);
    console.log(
      formatTable(
        ['direction', 'gap ms (median)', 'gap ms (each run)', 'handshakes', 'messages lost or repeated'],
        [
          ['client → server', up.toFixed(1), runs.map((x) => x.upMs.toFixed(0)).join(', '), '', ''],
          ['server → client', down.toFixed(1), runs.map((x) => x.downMs.toFixed(0)).join(', '), '', ''],
          [
            'per run',
            '',
            '',
            runs.map((x) => x.handshakes).join(', '),
            `${faults} of ${runs.reduce((sum, x) => sum + x.messages, 0)}`,
          ],
        ],
      ),
    );
    const target = RTT_MS + 100;
    console.log(
      `Target: a QUIC roaming gap under 1 RTT + 100 ms (${target} ms), each direction: ` +
        `${up.toFixed(0)} / ${down.toFixed(0)} ms, ${up < target && down < target ? 'met' : 'NOT met'}; ` +
        `zero messages lost or duplicated: ${faults === 0 ? 'met' : 'NOT met'}.`,
    );
  } catch (err) {
    console.log(`${title}: could not be measured: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    net.cleanup();
  }
}

/** The client's network: Wi-Fi or the hotspot, the other one gone (link down, no address). */
function join(client: NetNamespace, network: 'wifi' | 'hotspot'): void {
  const [gone, cidr, gateway] =
    network === 'wifi' ? ['hotspot', '10.201.1.2/24', '10.201.1.1'] : ['wifi', '10.201.2.2/24', '10.201.2.1'];
  const other = gone === 'wifi' ? '10.201.1.2/24' : '10.201.2.2/24';
  client.setLink(gone, 'down');
  if (client.ip('-o', 'addr', 'show', 'dev', gone).includes(other.split('/')[0]!)) client.removeAddress(gone, other);
  client.addAddress(network, cidr);
  client.setLink(network, 'up');
  client.defaultRoute(gateway);
}

/** One conversation with a move to the hotspot in the middle; the peers are ended afterwards. */
async function roam(client: NetNamespace, server: NetNamespace): Promise<Run> {
  join(client, 'wifi');
  const srv = new JsonLines(server.spawn(process.execPath, [PEER, 'server', String(INTERVAL_MS)]));
  let cli: JsonLines | null = null;
  try {
    const { port } = await srv.waitFor<JsonMessage & { port: number }>((m) => m.event === 'listening', 'listening');
    cli = new JsonLines(
      client.spawn(process.execPath, [PEER, 'client', '10.201.3.2', String(port), String(INTERVAL_MS)]),
    );
    await cli.waitFor((m) => m.event === 'established', 'the handshake');
    const progress = (n: number) => (m: JsonMessage) => m.event === 'progress' && (m.received as number) >= n;
    await cli.waitFor(progress(30), '30 messages at the client over Wi-Fi');
    await srv.waitFor(progress(30), '30 messages at the server over Wi-Fi');

    client.setLink('wifi', 'down');
    client.removeAddress('wifi', '10.201.1.2/24');
    // Scenario time without network (what both ends send meanwhile is lost and resent), not a wait for an event.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    join(client, 'hotspot');
    const usableAt = wallNow();
    cli.send({ cmd: 'rebind' });
    const rebound = await cli.waitFor<JsonMessage & { at: number }>((m) => m.event === 'rebound', 'the rebind');
    const moved = (m: JsonMessage) => m.event === 'progress' && (m.at as number) > rebound.at;
    const firstAfter = await cli.waitFor(moved, 'data at the client after the move');
    await srv.waitFor(moved, 'data at the server after the move');
    await cli.waitFor(progress((firstAfter.received as number) + 50), '50 more messages at the client');

    cli.send({ cmd: 'finish' });
    const [c, s] = await Promise.all([
      cli.waitFor<JsonMessage & PeerReport>((m) => m.event === 'report', "the client's report"),
      srv.waitFor<JsonMessage & PeerReport>((m) => m.event === 'report', "the server's report"),
    ]);
    const newAt = s.firstDataFrom['10.201.2.2'];
    if (newAt === undefined || c.firstDataAfterRebind === null)
      throw new Error('no data arrived over the new address in one direction');
    return {
      upMs: newAt - usableAt,
      downMs: c.firstDataAfterRebind - usableAt,
      handshakes: s.handshakes,
      faults: faultsIn(s.received, c.sent) + faultsIn(c.received, s.sent),
      messages: c.sent + s.sent,
    };
  } finally {
    cli?.child.kill();
    srv.child.kill();
  }
}

/** Messages lost or delivered more than once: `received` should hold each of 0..sent-1 once. */
function faultsIn(received: number[], sent: number): number {
  const unique = new Set(received.filter((n) => n >= 0 && n < sent));
  return sent - unique.size + (received.length - unique.size);
}
