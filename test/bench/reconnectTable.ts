/**
 * `npm run bench`, issue 12's reconnect table: back online after a network change at 50 ms RTT.
 * From the moment the new link is usable (the old transport destroyed, as a changed network
 * leaves it) until the account is online again, for
 *   (a) QUIC connection migration, for comparison: the roaming scenario of roamingTable.ts (a new
 *       socket after a Wi-Fi → hotspot move), back online = data delivered over the new path in
 *       both directions;
 *   (b) direct TLS to Prosody 13 (modern.test): SASL2 with a FAST token and XEP-0198 <resume/>
 *       inline (subjects/backOnline.ts 'fast');
 *   (b') as (b) without the resumption: the FAST token and a new session bound with Bind 2;
 *   (c) direct TLS to Prosody 0.12 (alpha.test): SASL, then XEP-0198 <resume/> ('legacy');
 *   (d) direct TLS to Prosody 13, a full new login with the password, nothing resumed ('full').
 * (b)–(d) run against the whole lab inside a network namespace with 25 ms per crossing on the
 * client-facing ports (as accountsTable.ts), each measurement a fresh client process that logs in
 * once first (so DNS answers are cached, as in the app). Median of RUNS.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { NetLab } from '../netns/netLab.ts';
import { netnsSkipReason } from '../netns/requirements.ts';
import { HOTSPOT_ADDRESS, joinNetwork, roamingTopology, roamOnce } from '../netns/roaming.ts';
import type { LabState } from '../lab/lab.ts';
import { delayClientPorts, startLabIn, stopLab, tcpConnectMs } from './benchLab.ts';
import { Cell, runJsonSubject } from './jsonSubject.ts';
import type { BackOnlineMode, BackOnlineResult } from './subjects/backOnline.ts';
import { formatTable, median } from './table.ts';

const SUBJECT = fileURLToPath(new URL('./subjects/backOnline.ts', import.meta.url));
const RTT_MS = 50;
const RUNS = Number(process.env.BENCH_RECONNECT_RUNS ?? 3);
/** The issue's target: back online over TCP within this many RTTs of the new link being usable. */
const TARGET_RTTS = 4;

const TCP_ROWS: { mode: BackOnlineMode; label: string; jid: (lab: LabState) => string }[] = [
  {
    mode: 'fast',
    label: '(b) direct TLS, SASL2 + FAST token + SM resume inline (Prosody 13)',
    jid: (lab) => `carol@${lab.prosody13.domain}`,
  },
  {
    mode: 'fast-bind',
    label: "(b') direct TLS, SASL2 + FAST token + Bind 2, a new session (Prosody 13)",
    jid: (lab) => `alice@${lab.prosody13.domain}`,
  },
  {
    mode: 'legacy',
    label: '(c) direct TLS, legacy SASL then XEP-0198 <resume/> (Prosody 0.12)',
    jid: (lab) => `alice@${lab.domains.alpha}`,
  },
  {
    mode: 'full',
    label: '(d) direct TLS, full new login, no token, no resumption (Prosody 13)',
    jid: (lab) => `bob@${lab.prosody13.domain}`,
  },
];

/** Prints the table, or why it was skipped. Never throws for a failed measurement: the row says it. */
export async function reconnectTable(): Promise<void> {
  const title = `Back online after a network change at ${RTT_MS} ms RTT (from the new link being usable)`;
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`${title}: skipped, ${skip}.`);
    return;
  }
  const rows: string[][] = [];
  const notes: string[] = [];
  let connectMs = RTT_MS;
  const tcpMedians = new Map<BackOnlineMode, number>();

  // (b)–(d): the lab in a namespace.
  const net = NetLab.create();
  let lab: { child: ChildProcessWithoutNullStreams; file: string } | null = null;
  try {
    const ns = net.namespace('bench');
    lab = await startLabIn(ns);
    const state = JSON.parse(readFileSync(lab.file, 'utf8')) as LabState;
    await delayClientPorts(ns, state, RTT_MS / 2);
    connectMs = tcpConnectMs(ns, state.prosody13.tlsPort);
    const cells = new Map(TCP_ROWS.map((r) => [r.mode, new Cell<BackOnlineResult>()]));
    // Run r of every row before run r + 1 of any: drift of this shared machine hits all alike.
    for (let r = 0; r < RUNS; r++) {
      for (const row of TCP_ROWS) {
        await cells
          .get(row.mode)!
          .run(() => runJsonSubject<BackOnlineResult>(ns, SUBJECT, [lab!.file, row.mode, row.jid(state)]));
      }
    }
    for (const row of TCP_ROWS) {
      const cell = cells.get(row.mode)!;
      if (cell.results.length === 0) {
        rows.push([row.label, `failed: ${cell.errors[0] ?? 'no result'}`, '', '', '', '', '']);
        continue;
      }
      const ms = median(cell.results.map((x) => x.elapsedMs));
      tcpMedians.set(row.mode, ms);
      const last = cell.results.at(-1)!;
      const shouldResume = row.mode === 'fast' || row.mode === 'legacy';
      const wrong = cell.results.filter((x) => x.resumed !== shouldResume);
      const remarks = [
        cell.failures(RUNS),
        wrong.length
          ? `${wrong.length} run(s) ${shouldResume ? `not resumed (${wrong[0]!.resumeFailed ?? 'no reason'})` : 'resumed'}`
          : '',
        row.mode.startsWith('fast') && cell.results.some((x) => !x.fast) ? 'a run did not sign in with the token' : '',
      ].filter(Boolean);
      rows.push([
        row.label,
        ms.toFixed(0),
        (ms / connectMs).toFixed(1),
        cell.results.map((x) => x.elapsedMs.toFixed(0)).join(', '),
        String(protocolRoundTrips(last)),
        `${median(cell.results.map((x) => x.verifiedMs ?? NaN)).toFixed(0)} / ${median(cell.results.map((x) => x.authenticatedMs ?? NaN)).toFixed(0)}`,
        `${last.saslMechanism ?? '?'}${last.sasl2 ? ' in SASL2' : ''}, resumed: ${cell.results.map((x) => (x.resumed ? 'yes' : 'no')).join('/')}` +
          (remarks.length ? ` (${remarks.join('; ')})` : ''),
      ]);
    }
  } catch (err) {
    notes.push(`(b)–(d) could not be measured: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (lab) await stopLab(lab.child);
    net.cleanup();
  }

  // (a): QUIC migration in the roaming topology, in the same run.
  const quicRow = await quicMigrationRow(connectMs);
  rows.unshift(quicRow);

  console.log(
    `${title}: 25 ms per crossing on the client-facing ports (one TCP connect took ${connectMs.toFixed(1)} ms, ` +
      `the RTT unit below); median of ${RUNS} runs, each a fresh client process that logged in once before ` +
      `(DNS cached), then destroyed its transport and reconnected at once.`,
  );
  console.log(
    formatTable(
      [
        'path',
        'back online, ms',
        'RTTs',
        'ms (each run)',
        'protocol round trips',
        'TLS verified / authenticated, ms',
        'how',
      ],
      rows,
    ),
  );
  for (const n of notes) console.log(n);
  console.log(
    'Protocol round trips, derived from the steps: TCP connect 1, TLS 1.3 handshake 1 (the stream header goes ' +
      'with the client Finished, after the verifier), stream header -> features 1, then SASL2 with a FAST token and ' +
      '<resume/> inline 1; SCRAM 2 (+1 stream restart after legacy SASL), XEP-0198 <resume/> after the features 1, ' +
      'legacy resource binding 1. QUIC migration: path validation 1 (data flows meanwhile).',
  );
  const fast = tcpMedians.get('fast');
  const legacy = tcpMedians.get('legacy');
  const verdict = (ms: number | undefined): string =>
    ms === undefined
      ? 'not measured'
      : `${(ms / connectMs).toFixed(1)} RTT, ${ms / connectMs <= TARGET_RTTS ? 'met' : 'NOT met'}`;
  console.log(
    `Target: back online over TCP within ${TARGET_RTTS} RTT of the new link being usable: ` +
      `(b) SASL2 + FAST + inline resume ${verdict(fast)}; (b') SASL2 + FAST + Bind 2 ${verdict(tcpMedians.get('fast-bind'))}; ` +
      `(c) legacy + XEP-0198 ${verdict(legacy)}.`,
  );
  console.log(
    "TLS session resumption: Quiver's TCP path (app/transport/tcpTransport.ts) has none. It would not change the " +
      'round trips above: a resumed TLS 1.3 handshake without early data still takes 1 RTT, and Node offers no ' +
      'TLS 1.3 early data to a client; it would save the certificate exchange and its CPU only.',
  );
}

/** The round trips the protocol needs for one TCP reconnect, from what the login used. */
function protocolRoundTrips(r: BackOnlineResult): number {
  const tcpAndTls = 2;
  const features = 1;
  const saslRounds = r.fast || /^PLAIN|^HT-/.test(r.saslMechanism ?? '') ? 1 : 2;
  if (r.sasl2) return tcpAndTls + features + saslRounds; // bind or resume inline, in the same answer
  // Legacy: SASL, a stream restart, then <resume/> or a bind.
  return tcpAndTls + features + saslRounds + 1 + 1;
}

/** (a): QUIC migration, measured as roamingTable.ts does: median over RUNS of the later of both directions. */
async function quicMigrationRow(connectMs: number): Promise<string[]> {
  const label = '(a) QUIC connection migration (new socket after Wi-Fi -> hotspot)';
  const net = NetLab.create();
  const cell = new Cell<number>();
  try {
    const { client, server } = await roamingTopology(net, RTT_MS);
    for (let r = 0; r < RUNS; r++) {
      await cell.run(async () => {
        joinNetwork(client, 'wifi');
        const roamed = await roamOnce(client, server, { intervalMs: 10, outageMs: 300, rebind: true });
        const up = roamed.server.firstDataFrom[HOTSPOT_ADDRESS];
        const down = roamed.client.firstDataAfterRebind;
        if (up === undefined || down === null) throw new Error('no data arrived over the new address in one direction');
        return Math.max(up, down) - roamed.usableAt;
      });
    }
  } catch (err) {
    cell.errors.push(err instanceof Error ? err.message : String(err));
  } finally {
    net.cleanup();
  }
  if (cell.results.length === 0) return [label, `failed: ${cell.errors[0] ?? 'no result'}`, '', '', '', '', ''];
  const ms = median(cell.results);
  return [
    label,
    ms.toFixed(0),
    (ms / connectMs).toFixed(1),
    cell.results.map((x) => x.toFixed(0)).join(', '),
    '1',
    '',
    'data over the new path both ways (messages every 10 ms)' + (cell.errors.length ? ` (${cell.failures(RUNS)})` : ''),
  ];
}
