/**
 * One measurement of `npm run bench`'s reconnect table (test/bench/reconnectTable.ts), run as a
 * fresh process each time:
 *
 *   node backOnline.ts <lab.json> <fast|legacy|full> <jid>
 *
 * Logs `jid` in once over direct TLS with a resumable XEP-0198 session (and, for `fast`, SASL2
 * with a XEP-0484 token request), waits until stream management is on, then destroys the
 * transport as a changed network does (the old path is gone; nothing is closed in order) and at
 * once logs in again, timed from that moment until the account is online:
 *   - fast:   SASL2 with the FAST token alone and the XEP-0198 <resume/> inline (Prosody 13);
 *   - fast-bind: SASL2 with the FAST token alone and Bind 2, a new session (nothing resumed);
 *   - legacy: SASL as before, then XEP-0198 <resume/> after the features (Prosody 0.12);
 *   - full:   a new login with the password, no token, nothing resumed (a fresh session).
 * The DNS answers and the verifier's verdict of the first login stay cached in the process, as
 * they do in the app. Prints one JSON line (`BackOnlineResult`).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildConnectDeps } from '../../../app/connect/connectDeps.ts';
import { establish, type ConnectRequest, type Established } from '../../../app/connect/connector.ts';
import type { StreamDriver } from '../../../app/connect/streamDriver.ts';
import type { LabState } from '../../lab/lab.ts';

export type BackOnlineMode = 'fast' | 'fast-bind' | 'legacy' | 'full';

export interface BackOnlineResult {
  mode: BackOnlineMode;
  /** From the old transport's destruction (the new link usable) until online again. */
  elapsedMs: number;
  /** XEP-0198 §5: the server resumed the former session. */
  resumed: boolean;
  /** The server refused to resume (its condition), else null. */
  resumeFailed: string | null;
  saslMechanism: string | null;
  sasl2: boolean;
  fast: boolean;
  /** ms after the start: the server's certificate accepted (TCP + TLS done), and the login accepted. */
  verifiedMs: number | null;
  authenticatedMs: number | null;
}

const [labFile, modeArg, jid] = process.argv.slice(2);
const MODES: readonly string[] = ['fast', 'fast-bind', 'legacy', 'full'] satisfies BackOnlineMode[];
if (!labFile || !jid || !modeArg || !MODES.includes(modeArg)) {
  console.error('usage: node backOnline.ts <lab.json> <fast|fast-bind|legacy|full> <jid>');
  process.exit(2);
}
const mode = modeArg as BackOnlineMode;
const usesToken = mode === 'fast' || mode === 'fast-bind';
const lab = JSON.parse(readFileSync(labFile, 'utf8')) as LabState;
const password = lab.users[jid];
if (password === undefined) throw new Error(`the lab has no account ${jid}`);

/** The timed login's start (null during the first login), and its steps. */
let t0: number | null = null;
let verifiedMs: number | null = null;
let authenticatedMs: number | null = null;
const deps = buildConnectDeps(
  { resolver: lab.resolver, resolverValidates: true, extraCaPem: lab.caPem, transport: 'tls' },
  { resolver: null, extraCaPem: null },
  (record) => {
    // The timed login's steps, as the connector saves the record: verified, then authenticated.
    if (t0 === null) return;
    const at = performance.now() - t0;
    if (record.saslMechanism !== null) authenticatedMs ??= at;
    else verifiedMs ??= at;
  },
  { httpsPort: lab.https.port, quic: null, transportMemory: null },
);
const userAgent = { id: randomUUID(), device: 'bench' };
const base = { jid, password, preference: 'tls', accountId: null } as const;

// The first login: what the app holds when the network changes.
const first = await establish(
  {
    ...base,
    streamManagement: { resume: true },
    ...(usesToken ? { login: { userAgent, requestFastToken: true } } : {}),
  },
  deps,
);
await smOn(first.driver);
const token = first.fastToken ?? null;
if (usesToken && !token) throw new Error(`${jid}: the first login obtained no FAST token`);

// The network changed: the old transport is gone, and the new link is usable now.
first.driver.destroy();
const previous = first.driver.streamManagementState();
if ((mode === 'fast' || mode === 'legacy') && !previous?.id)
  throw new Error(`${jid}: the first stream is not resumable (no SM-ID)`);

t0 = performance.now();
const again: Established = await establish(againRequest(), deps);
const elapsedMs = performance.now() - t0;

const result: BackOnlineResult = {
  mode,
  elapsedMs,
  resumed: again.resumed,
  resumeFailed: again.resumeFailed,
  saslMechanism: again.record.saslMechanism,
  sasl2: again.record.sasl2 ?? false,
  fast: again.record.fast ?? false,
  verifiedMs,
  authenticatedMs,
};
console.log(JSON.stringify(result));
await closeWithin(again.driver, 3_000);
process.exit(0);

function againRequest(): ConnectRequest {
  switch (mode) {
    case 'fast':
      return {
        ...base,
        login: { userAgent, fast: { mechanism: token!.mechanism, token: token!.token } },
        streamManagement: { resume: true, previous },
      };
    case 'fast-bind':
      return {
        ...base,
        login: { userAgent, fast: { mechanism: token!.mechanism, token: token!.token } },
        streamManagement: { resume: true },
      };
    case 'legacy':
      return { ...base, streamManagement: { resume: true, previous } };
    case 'full':
      return { ...base, streamManagement: { resume: true } };
  }
}

/** Resolves once XEP-0198 is on (enabled inline, or by the <enabled/> that follows the bind); rejects after 10 s. */
function smOn(driver: StreamDriver): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${jid}: stream management did not come on within 10 s`)), 10_000);
    const check = (): void => {
      if (driver.streamManagementStatus().phase !== 'on') return;
      clearTimeout(timer);
      resolve();
    };
    driver.setEventHandler(
      (event) => {
        if (event.type === 'sm-failed' || event.type === 'closed') {
          clearTimeout(timer);
          reject(new Error(`${jid}: stream management failed (${event.type})`));
        } else check();
      },
      (error) => reject(error instanceof Error ? error : new Error(String(error))),
    );
    check();
  });
}

/** Closes the stream in order; a server that does not answer within `ms` is not waited for. */
async function closeWithin(driver: StreamDriver, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
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
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  driver.destroy();
}
