/**
 * One measurement of `npm run bench`'s warm-start table (test/bench/warmStartTable.ts), run as a
 * fresh process each time:
 *
 *   node warmStart.ts <lab.json> <quic|tls> <jid>...
 *
 * An earlier run, in the same process: every account logs in once (SASL2 with a XEP-0484 token
 * request where the server offers it), which fills the DNS cache, the QUIC pool's session tickets
 * and the FAST tokens; the streams are closed in order and the QUIC pool is closed. Then the warm
 * start, timed: a new QUIC pool with the same ticket store (0-RTT stream header), every account
 * logging in at once with its FAST token where it got one. Prints one JSON line (`WarmStartResult`).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecurityRecord, TransportPreference } from '../../../app/contract/viewModels.ts';
import { buildConnectDeps } from '../../../app/connect/connectDeps.ts';
import { establish, type Established } from '../../../app/connect/connector.ts';
import { QuicSessions } from '../../../app/connect/quicSessions.ts';
import { memoryTicketStore } from '../../../app/connect/quicTicketStore.ts';
import type { LabState } from '../../lab/lab.ts';

export interface WarmStartResult {
  accounts: number;
  /** From the start of the warm login until the last account is online. */
  elapsedMs: number;
  /** Accounts that signed in with a FAST token (XEP-0484). */
  fast: number;
  /** Accounts bound inline with SASL2 (XEP-0386 Bind 2). */
  bind2: number;
  /** QUIC connections (or TCP connections, one per account). */
  connections: number;
  /** QUIC: connections whose TLS session was resumed from a ticket; accounts whose 0-RTT header the server took. */
  resumedTls: number;
  earlyDataAccepted: number;
  /** ms after the start: the first account's server verified, the last account's login accepted. */
  firstVerifiedMs: number | null;
  lastAuthenticatedMs: number | null;
  /** The transport each record names: a forced transport must not have fallen back. */
  transports: string[];
  /** The SASL mechanisms the warm logins used, each once (e.g. HT-SHA-256-NONE for FAST over QUIC). */
  mechanisms: string[];
}

const [labFile, transportArg, ...jids] = process.argv.slice(2);
if (!labFile || (transportArg !== 'quic' && transportArg !== 'tls') || jids.length === 0) {
  console.error('usage: node warmStart.ts <lab.json> <quic|tls> <jid>...');
  process.exit(2);
}
const transport: TransportPreference = transportArg;
const lab = JSON.parse(readFileSync(labFile, 'utf8')) as LabState;
const tickets = memoryTicketStore();
/** The warm start's beginning (null during the earlier run), and its steps. */
let t0: number | null = null;
let firstVerifiedMs: number | null = null;
let lastAuthenticatedMs: number | null = null;
const userAgents = new Map(jids.map((jid) => [jid, { id: randomUUID(), device: 'bench' }]));

/** Logs every account in at once over `pool`; `tokens` (by JID) sign in instead of the password. */
async function loginAll(
  pool: QuicSessions,
  tokens: Map<string, NonNullable<Established['fastToken']>>,
): Promise<{ established: Established[]; records: SecurityRecord[] }> {
  const records: SecurityRecord[] = [];
  const established = await Promise.all(
    jids.map((jid) => {
      const password = lab.users[jid];
      if (password === undefined) throw new Error(`the lab has no account ${jid}`);
      const deps = buildConnectDeps(
        { resolver: lab.resolver, resolverValidates: true, extraCaPem: lab.caPem, transport },
        { resolver: null, extraCaPem: null },
        (record) => {
          records.push(record);
          if (t0 === null) return;
          const at = performance.now() - t0;
          if (record.saslMechanism === null) firstVerifiedMs ??= at;
          else if (record.boundJid === null) lastAuthenticatedMs = at;
        },
        { httpsPort: lab.https.port, quic: pool, transportMemory: null },
      );
      const token = tokens.get(jid);
      const userAgent = userAgents.get(jid)!;
      return establish(
        {
          jid,
          password,
          preference: transport,
          accountId: null,
          login: token
            ? { userAgent, fast: { mechanism: token.mechanism, token: token.token } }
            : { userAgent, requestFastToken: true },
        },
        deps,
      );
    }),
  );
  return { established, records };
}

// The earlier run.
const earlierPool = new QuicSessions({ tickets });
const earlier = await loginAll(earlierPool, new Map());
const tokens = new Map<string, NonNullable<Established['fastToken']>>();
earlier.established.forEach((e, i) => {
  if (e.fastToken) tokens.set(jids[i]!, e.fastToken);
});
await closeAll(earlier.established);
await earlierPool.close();

// The warm start.
const pool = new QuicSessions({ tickets });
t0 = performance.now();
const warm = await loginAll(pool, tokens);
const elapsedMs = performance.now() - t0;

const finals = warm.established.map((e) => e.record);
const quicConnections = new Map<string, SecurityRecord>();
for (const r of finals) if (r.quicConnectionId) quicConnections.set(r.quicConnectionId, r);
const result: WarmStartResult = {
  accounts: jids.length,
  elapsedMs,
  fast: finals.filter((r) => r.fast === true).length,
  bind2: finals.filter((r) => r.bind2 === true).length,
  connections: transport === 'quic' ? quicConnections.size : finals.length,
  resumedTls: [...quicConnections.values()].filter((r) => r.quic?.resumed === true).length,
  earlyDataAccepted: finals.filter((r) => r.quic?.earlyData === 'accepted').length,
  firstVerifiedMs,
  lastAuthenticatedMs,
  transports: finals.map((r) => r.transport),
  mechanisms: [...new Set(finals.map((r) => r.saslMechanism ?? 'none'))],
};
console.log(JSON.stringify(result));
await closeAll(warm.established);
await pool.close();
process.exit(0);

/** Closes every stream in order (Prosody ends the sessions); a server silent for 3 s is not waited for. */
async function closeAll(all: Established[]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(
      all.map(
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
    new Promise<void>((resolve) => (timer = setTimeout(resolve, 3_000))),
  ]);
  clearTimeout(timer);
  for (const { driver } of all) driver.destroy();
}
