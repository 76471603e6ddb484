/**
 * `npm run bench`, table B (issue 11): the QUIC roaming gap at 50 ms RTT, measured as
 * test/integration/quic/roamingNetns.test.ts does, in network namespaces made here (the scenario
 * of test/netns/roaming.ts, 10 ms between messages): mid-conversation the client's Wi-Fi goes,
 * 300 ms later the hotspot comes up with another address and route, and the client's endpoint
 * moves to a new socket (what Quiver does when it notices the change). The gap, each direction:
 * from the new address being usable to the first message delivered over it. Each run also checks
 * one handshake and every message exactly once.
 */
import { NetLab } from '../netns/netLab.ts';
import type { NetNamespace } from '../netns/netNamespace.ts';
import { HOTSPOT_ADDRESS, joinNetwork, roamingTopology, roamOnce } from '../netns/roaming.ts';
import { netnsSkipReason } from '../netns/requirements.ts';
import { formatTable, median } from './table.ts';

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
    const { client, server } = await roamingTopology(net, RTT_MS);

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

/** One conversation with a move to the hotspot in the middle (a new socket). */
async function roam(client: NetNamespace, server: NetNamespace): Promise<Run> {
  joinNetwork(client, 'wifi');
  const {
    client: c,
    server: s,
    usableAt,
  } = await roamOnce(client, server, { intervalMs: INTERVAL_MS, outageMs: OUTAGE_MS, rebind: true });
  const newAt = s.firstDataFrom[HOTSPOT_ADDRESS];
  if (newAt === undefined || c.firstDataAfterRebind === null)
    throw new Error('no data arrived over the new address in one direction');
  return {
    upMs: newAt - usableAt,
    downMs: c.firstDataAfterRebind - usableAt,
    handshakes: s.handshakes,
    faults: faultsIn(s.received, c.sent) + faultsIn(c.received, s.sent),
    messages: c.sent + s.sent,
  };
}

/** Messages lost or delivered more than once: `received` should hold each of 0..sent-1 once. */
function faultsIn(received: number[], sent: number): number {
  const unique = new Set(received.filter((n) => n >= 0 && n < sent));
  return sent - unique.size + (received.length - unique.size);
}
