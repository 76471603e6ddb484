/**
 * One cold measurement of `npm run bench`'s accounts table (test/bench/accountsTable.ts), run as a
 * fresh process each time (no DNS cache, no TLS session tickets, no warm JIT):
 *
 *   node accountsBound.ts <lab.json> <quic|tls|starttls> <jid>...
 *
 * Builds each account's connect deps as `quiver connect` does (the lab's resolver, its CA as the
 * extra trust anchor, its HTTPS port), all accounts sharing one QUIC session pool, then logs them
 * all in at once with `establish` and prints one JSON line (`AccountsBoundResult`): the time from
 * the start of the work (after the modules are loaded) until every account is bound, the TLS or
 * QUIC handshakes it took and the CPU the process spent. The streams are closed before it exits.
 */
import { readFileSync } from 'node:fs';
import type { SecurityRecord, TransportPreference } from '../../../app/contract/viewModels.ts';
import { buildConnectDeps } from '../../../app/connect/connectDeps.ts';
import { establish, type Established } from '../../../app/connect/connector.ts';
import { QuicSessions } from '../../../app/connect/quicSessions.ts';
import type { LabState } from '../../lab/lab.ts';

export interface AccountsBoundResult {
  accounts: number;
  transport: TransportPreference;
  /** From the start of the work (deps built inside it) until the last account is bound. */
  elapsedMs: number;
  /** TLS handshakes over TCP (one per account), or QUIC connections the pool opened. */
  handshakes: number;
  /** Distinct `quicConnectionId`s of the records (QUIC), or of the accounts (TCP). */
  connections: number;
  /** CPU (user + system) spent from the start of the work until every account was bound. */
  cpuLoginMs: number;
  /** CPU the whole process spent by then, module loading included. */
  cpuProcessMs: number;
  /** The transport each record names: a forced transport must not have fallen back. */
  transports: string[];
}

const [labFile, transportArg, ...jids] = process.argv.slice(2);
if (!labFile || !transportArg || jids.length === 0) {
  console.error('usage: node accountsBound.ts <lab.json> <quic|tls|starttls> <jid>...');
  process.exit(2);
}
const transport = transportArg as TransportPreference;
const lab = JSON.parse(readFileSync(labFile, 'utf8')) as LabState;

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const quic = new QuicSessions();
const records: SecurityRecord[] = [];
const established: Established[] = await Promise.all(
  jids.map((jid) => {
    const password = lab.users[jid];
    if (password === undefined) throw new Error(`the lab has no account ${jid}`);
    const deps = buildConnectDeps(
      { resolver: lab.resolver, resolverValidates: true, extraCaPem: lab.caPem, transport },
      { resolver: null, extraCaPem: null },
      (record) => records.push(record),
      { httpsPort: lab.https.port, quic },
    );
    return establish({ jid, password, preference: transport, accountId: null }, deps);
  }),
);
const elapsedMs = performance.now() - t0;
const cpuLogin = process.cpuUsage(cpu0);
const cpuProcess = process.cpuUsage();
const ms = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

const result: AccountsBoundResult = {
  accounts: jids.length,
  transport,
  elapsedMs,
  handshakes: transport === 'quic' ? quic.stats().connections : established.length,
  connections:
    transport === 'quic'
      ? new Set(established.map((e) => e.record.quicConnectionId)).size
      : new Set(established.map((e) => e.boundJid)).size,
  cpuLoginMs: ms(cpuLogin),
  cpuProcessMs: ms(cpuProcess),
  transports: established.map((e) => e.record.transport),
};
console.log(JSON.stringify(result));

// Close every stream (Prosody ends the sessions), then the pool; a server that does not answer the
// close within 3 s is not waited for.
await Promise.race([
  Promise.all(
    established.map(
      ({ driver }) =>
        new Promise<void>((resolve) => {
          driver.setEventHandler(
            (event) => {
              if (event.type === 'closed') resolve();
            },
            () => resolve(),
          );
          if (driver.state === 'closed') resolve();
          else driver.close();
        }),
    ),
  ),
  new Promise((resolve) => setTimeout(resolve, 3_000).unref()),
]);
for (const { driver } of established) driver.destroy();
await quic.close();
process.exit(0);
