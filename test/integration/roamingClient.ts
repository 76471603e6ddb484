/**
 * The client side of test/integration/roaming.test.ts, run inside the client's network namespace
 * (`ip netns exec <ns> node roamingClient.ts CONFIG_JSON`). It is Quiver's real roaming path for
 * one account: an `AccountSession` that logs in over QUIC through the connector and a
 * `QuicSessions` pool, and a `Roaming` driven by a real `NetworkMonitor` (`ip -o monitor` in this
 * namespace), so the kernel's address change is noticed here, never announced by the test.
 *
 * DNS is a fake: `_xmppq-client._udp.<domain>` names the test's gateway (its address and UDP
 * port), every other SRV name is NXDOMAIN (so only QUIC is a candidate), and only the gateway's
 * host name resolves. The server is verified against the lab's CA (no DANE, no POSH).
 *
 * JSON lines. In (stdin): {"cmd":"send","to":FULL_JID} starts sending `a2b <n>` to that JID every
 * `intervalMs`; {"cmd":"stop-sending"} stops and answers {"event":"sending-stopped","sent"};
 * {"cmd":"finish"} answers {"event":"report",...} (`ClientReport`) and exits.
 * Out (stdout): {"event":"status",...} on each status change (`online` carries the bound JID and
 * the record), {"event":"received","n","at"} per `b2a <n>` message, {"event":"path",...} per path
 * event stored on the record, {"event":"log",...} for what Quiver logs.
 */
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { AccountSession, type SessionCallbacks } from '../../app/connect/accountSession.ts';
import type { ConnectDeps } from '../../app/connect/connector.ts';
import { ConnectError } from '../../app/connect/connectError.ts';
import { NetworkMonitor } from '../../app/connect/networkMonitor.ts';
import { QuicSessions, type QuicPoolStats } from '../../app/connect/quicSessions.ts';
import { TransportMemory, type TransportMemoryStore } from '../../app/connect/transportMemory.ts';
import type { PathEvent, SecurityRecord } from '../../app/contract/viewModels.ts';
import { Roaming } from '../../app/core/roaming.ts';
import { verifyServer } from '../../app/security/verifier.ts';
import { loadTrustAnchors } from '../../app/security/driver/systemTrustAnchors.ts';

/** The command-line argument (one JSON object). */
export interface RoamingClientConfig {
  jid: string;
  password: string;
  /** The test's QUIC gateway, as the client reaches it. */
  gateway: { address: string; port: number };
  caPem: string;
  intervalMs: number;
}

/** What the client reports at the end. Times are wall-clock ms (performance.timeOrigin-based). */
export interface ClientReport {
  event: 'report';
  /** Messages sent (`a2b 0` .. `a2b sent-1`). */
  sent: number;
  /** The numbers of the `b2a` messages received, in arrival order. */
  received: number[];
  /** Every status the session reported, in order, with the bound JID. */
  statuses: { status: string; boundJid: string | null }[];
  /** Every record the connector saved, latest version by id. */
  records: SecurityRecord[];
  /** Path events Roaming stored, per record id. */
  pathEvents: { recordId: string; event: PathEvent }[];
  pool: QuicPoolStats;
}

const config = JSON.parse(process.argv[2] ?? '') as RoamingClientConfig;
const domain = config.jid.split('@')[1]!;
const gatewayHost = `quic-gateway.${domain}`;

function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

function emit(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

const records = new Map<string, SecurityRecord>();
const pathEvents: { recordId: string; event: PathEvent }[] = [];
const statuses: { status: string; boundJid: string | null }[] = [];
const received: number[] = [];
const outbox: { localId: string; to: string; stanzaId: string; body: string }[] = [];
let sent = 0;

const pool = new QuicSessions();
const outcomes = new Map<string, Parameters<TransportMemoryStore['recordTransportOutcome']>[0]>();
const memory = new TransportMemory({
  getTransportOutcome: (network, d) => outcomes.get(`${network}|${d}`) ?? null,
  recordTransportOutcome: (entry) => void outcomes.set(`${entry.networkKey}|${entry.domain}`, entry),
});
const log = (level: string, message: string): void => emit({ event: 'log', level, message, at: wallNow() });

const roaming = new Roaming({
  pool,
  memory,
  accounts: () => [session],
  addPathEvent: (recordId, event) => {
    pathEvents.push({ recordId, event });
    emit({ event: 'path', recordId, ...event, wallAt: wallNow() });
  },
  log,
  monitor: (onChange) => new NetworkMonitor({ onChange, log }),
  now: Date.now,
});

const anchors = loadTrustAnchors([config.caPem]);
const deps: ConnectDeps = {
  dns: {
    srv: (name) =>
      Promise.resolve(
        name.replace(/\.$/, '') === `_xmppq-client._udp.${domain}`
          ? {
              rcode: 'NOERROR',
              records: [{ priority: 0, weight: 0, port: config.gateway.port, target: gatewayHost }],
              dnssec: 'insecure' as const,
            }
          : { rcode: 'NXDOMAIN', records: [], dnssec: 'insecure' as const },
      ),
  },
  hosts: {
    resolve: (host) =>
      host === gatewayHost
        ? Promise.resolve([config.gateway.address])
        : Promise.reject(new ConnectError('host-not-found', `The server name ${host} has no address in DNS.`)),
  },
  hostMeta: null,
  verify: (facts) => verifyServer(facts, { anchors, now: new Date() }),
  saveRecord: (record) => void records.set(record.id, structuredClone(record)),
  quic: pool,
  transportMemory: roaming.advisor,
};

const callbacks: SessionCallbacks = {
  status: (status, boundJid, error) => {
    statuses.push({ status, boundJid });
    emit({ event: 'status', status, boundJid, error, record: session.record, at: wallNow() });
  },
  roster: () => undefined,
  rosterPush: () => undefined,
  presence: () => undefined,
  message: (incoming) => {
    const m = /^b2a (\d+)$/.exec(incoming.body);
    if (!m) return { outcome: 'stored', at: null };
    const n = Number(m[1]);
    received.push(n);
    emit({ event: 'received', n, at: wallNow() });
    return { outcome: 'stored', at: null };
  },
  outbox: () => [...outbox],
  sent: (localId) => {
    const at = outbox.findIndex((item) => item.localId === localId);
    if (at >= 0) outbox.splice(at, 1);
  },
  saveRecord: (record) => void records.set(record.id, structuredClone(record)),
  decisionNeeded: (context) =>
    emit({
      event: 'log',
      level: 'error',
      message: `the verifier asks a decision for ${context.domain}: ${context.verdict.error?.message ?? 'untrusted'}`,
    }),
  log: (level, message) => log(level, message),
};

const session: AccountSession = new AccountSession(
  {
    accountId: 'roaming-client',
    jid: config.jid,
    preference: 'quic',
    password: () => Promise.resolve(config.password),
    deps: () => deps,
  },
  callbacks,
);

let sender: NodeJS.Timeout | null = null;

function startSending(to: string): void {
  if (sender) return;
  sender = setInterval(() => {
    outbox.push({ localId: String(sent), to, stanzaId: randomUUID(), body: `a2b ${sent}` });
    sent++;
    session.flushOutbox();
  }, config.intervalMs);
}

async function finish(): Promise<void> {
  if (sender) clearInterval(sender);
  const report: ClientReport = {
    event: 'report',
    sent,
    received,
    statuses,
    records: [...records.values()],
    pathEvents,
    pool: pool.stats(),
  };
  emit(report);
  roaming.stop();
  await session.stop();
  await pool.close();
  process.exit(0);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { cmd: string; to?: string };
  if (cmd.cmd === 'send' && cmd.to) startSending(cmd.to);
  else if (cmd.cmd === 'stop-sending') {
    if (sender) clearInterval(sender);
    sender = null;
    emit({ event: 'sending-stopped', sent, queued: outbox.length });
  } else if (cmd.cmd === 'finish') void finish();
});
// The test process ending (or killing us) closes stdin: nothing of this client may outlive it.
process.stdin.once('end', () => process.exit(0));

await roaming.start();
emit({ event: 'monitoring', at: wallNow() });
session.start();
