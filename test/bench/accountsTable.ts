/**
 * `npm run bench`, table A (issue 11): N = 1, 5 and 10 accounts of quic-a.test logged in at 50 ms
 * RTT, cold, over (a) one shared QUIC session, (b) one direct TLS connection per account, (c)
 * STARTTLS per account, all in one run: time until every account is bound (ms and RTTs), TLS or
 * QUIC handshakes, and the client's CPU.
 *
 * The whole lab runs inside a network namespace made here (test/netns), and only the
 * client-facing ports are 25 ms away per crossing: the resolver (unbound, UDP and TCP), STARTTLS,
 * direct TLS, HTTPS (host-meta, POSH) and the QUIC gateway (UDP). The server-side hops (the
 * gateway to Prosody's plaintext port, unbound to nsd) stay instant, as on a real server. Each
 * measurement is a fresh process (subjects/accountsBound.ts): no DNS cache, no session tickets.
 */
import { fileURLToPath } from 'node:url';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { NetLab } from '../netns/netLab.ts';
import type { NetNamespace } from '../netns/netNamespace.ts';
import { netnsSkipReason } from '../netns/requirements.ts';
import type { LabState } from '../lab/lab.ts';
import type { AccountsBoundResult } from './subjects/accountsBound.ts';
import { delayClientPorts, startLabIn, stopLab, tcpConnectMs } from './benchLab.ts';
import { formatTable, median } from './table.ts';
import { readFileSync } from 'node:fs';

const SUBJECT = fileURLToPath(new URL('./subjects/accountsBound.ts', import.meta.url));
const RTT_MS = 50;
const COUNTS = [1, 5, 10];
const TRANSPORTS = [
  { preference: 'quic', label: 'QUIC, one shared session' },
  { preference: 'tls', label: 'direct TLS per account' },
  { preference: 'starttls', label: 'STARTTLS per account' },
] as const;
const RUNS = Number(process.env.BENCH_ACCOUNT_RUNS ?? 3);
const DOMAIN = 'quic-a.test';

type Preference = (typeof TRANSPORTS)[number]['preference'];

/** Prints table A, or why it was skipped. Never throws for a failed measurement: the cell says it. */
export async function accountsTable(): Promise<void> {
  const title = `Accounts bound at ${RTT_MS} ms RTT, cold (${DOMAIN}, lab in a network namespace)`;
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`${title}: skipped, ${skip}.`);
    return;
  }
  const net = NetLab.create();
  let lab: { child: ChildProcessWithoutNullStreams; file: string } | null = null;
  try {
    const ns = net.namespace('bench');
    lab = await startLabIn(ns);
    const state = JSON.parse(readFileSync(lab.file, 'utf8')) as LabState;
    await delayClientPorts(ns, state, RTT_MS / 2);
    const connectMs = tcpConnectMs(ns, state.prosody.starttlsPort);
    const users = state.scenarios[DOMAIN]?.users ?? [];
    const counts = COUNTS.filter((n) => n <= users.length);

    const cells = new Map<string, { results: AccountsBoundResult[]; errors: string[] }>();
    const cell = (n: number, p: Preference) => {
      const key = `${n} ${p}`;
      if (!cells.has(key)) cells.set(key, { results: [], errors: [] });
      return cells.get(key)!;
    };
    // Run r of every cell before run r + 1 of any: drift of this shared machine hits all alike.
    for (let r = 0; r < RUNS; r++) {
      for (const n of counts) {
        const jids = users.slice(0, n).map((u) => `${u}@${DOMAIN}`);
        for (const { preference } of TRANSPORTS) {
          try {
            cell(n, preference).results.push(await measure(ns, lab.file, preference, jids));
          } catch (err) {
            cell(n, preference).errors.push(err instanceof Error ? err.message : String(err));
          }
        }
      }
    }

    console.log(
      `${title}: 25 ms per crossing on the client-facing ports only (one TCP connect to STARTTLS ` +
        `took ${connectMs.toFixed(1)} ms); median of ${RUNS} fresh client processes per row.`,
    );
    const rows: string[][] = [];
    const summary = new Map<string, { ms: number; handshakes: number; cpu: number }>();
    for (const n of counts) {
      for (const { preference, label } of TRANSPORTS) {
        const { results, errors } = cell(n, preference);
        if (results.length === 0) {
          rows.push([String(n), label, `failed: ${errors[0] ?? 'no result'}`, '', '', '', '']);
          continue;
        }
        const ms = median(results.map((x) => x.elapsedMs));
        const handshakes = median(results.map((x) => x.handshakes));
        const cpu = median(results.map((x) => x.cpuLoginMs));
        summary.set(`${n} ${preference}`, { ms, handshakes, cpu });
        const wrong = results.flatMap((x) => x.transports).filter((t) => t !== preference);
        const notes = [
          errors.length ? `${errors.length} of ${RUNS} runs failed: ${errors[0]}` : '',
          wrong.length ? `records name ${[...new Set(wrong)].join(', ')}` : '',
        ].filter(Boolean);
        rows.push([
          String(n),
          label,
          ms.toFixed(0),
          (ms / RTT_MS).toFixed(1),
          String(handshakes),
          cpu.toFixed(0),
          median(results.map((x) => x.cpuProcessMs)).toFixed(0) + (notes.length ? ` (${notes.join('; ')})` : ''),
        ]);
      }
    }
    console.log(
      formatTable(
        ['accounts', 'transport', 'all bound, ms', 'RTTs', 'handshakes', 'CPU ms, login', 'CPU ms, process'],
        rows,
      ),
    );
    printTargets(summary);
  } catch (err) {
    console.log(`${title}: could not be measured: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (lab) await stopLab(lab.child);
    net.cleanup();
  }
}

function printTargets(summary: Map<string, { ms: number; handshakes: number; cpu: number }>): void {
  const q10 = summary.get('10 quic');
  const t10 = summary.get('10 tls');
  if (q10 && t10) {
    const met = q10.handshakes === 1 && q10.ms < t10.ms;
    console.log(
      `Target: 10 accounts over QUIC with 1 handshake and fewer RTTs than direct TLS: ` +
        `QUIC ${q10.handshakes} handshake(s), ${(q10.ms / RTT_MS).toFixed(1)} RTT; direct TLS ${(t10.ms / RTT_MS).toFixed(1)} RTT: ` +
        (met ? 'met' : 'NOT met'),
    );
  }
  const perAccount = TRANSPORTS.flatMap(({ preference, label }) => {
    const one = summary.get(`1 ${preference}`);
    const ten = summary.get(`10 ${preference}`);
    return one && ten ? [{ label, ms: (ten.cpu - one.cpu) / 9 }] : [];
  });
  if (perAccount.length > 0) {
    console.log(
      `Target: each extra account costs under 10 ms of CPU, (CPU(10) - CPU(1)) / 9: ` +
        perAccount.map((p) => `${p.label} ${p.ms.toFixed(1)} ms ${p.ms < 10 ? 'met' : 'NOT met'}`).join('; '),
    );
  }
}

/** One fresh client process logging `jids` in; rejects with its stderr when it fails or takes over 60 s. */
function measure(
  ns: NetNamespace,
  labFile: string,
  preference: Preference,
  jids: string[],
): Promise<AccountsBoundResult> {
  const child = ns.spawn(process.execPath, [SUBJECT, labFile, preference, ...jids]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as AccountsBoundResult);
      else reject(new Error(`exit ${code ?? signal}: ${lastLine(err) || '(no output)'}`));
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines.find((l) => /error|Error/.test(l)) ?? lines.at(-1) ?? '').trim().slice(0, 200);
}
