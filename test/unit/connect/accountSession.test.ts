/**
 * AccountSession without a server: what happens around a connection attempt (stop while
 * connecting, a secret store that fails, retries) — the parts a lab test cannot provoke on demand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountSession, type SessionCallbacks } from '../../../app/connect/accountSession.ts';
import type { ConnectDeps } from '../../../app/connect/connector.ts';
import type { AccountStatus, UserError } from '../../../app/contract/viewModels.ts';
import { sessionCallbacks } from '../../support/sessionCallbacks.ts';

interface Seen {
  statuses: { status: AccountStatus; error: UserError | null }[];
  logs: string[];
}

function callbacks(seen: Seen, onStatus: (status: AccountStatus) => void = () => undefined): SessionCallbacks {
  return sessionCallbacks({
    status(status, _bound, error) {
      seen.statuses.push({ status, error });
      onStatus(status);
    },
    log: (_level, message) => seen.logs.push(message),
  });
}

/** DNS that never answers: the attempt stays in discovery until it is cancelled. */
const silentDeps = (): ConnectDeps => ({
  dns: { srv: () => new Promise(() => undefined) },
  hosts: { resolve: () => new Promise(() => undefined) },
  verify: () => Promise.reject(new Error('not reached')),
  saveRecord: () => undefined,
  hostMeta: null,
});

test('stop() while connecting cancels the attempt at once and nothing is reported afterwards', async () => {
  const seen: Seen = { statuses: [], logs: [] };
  let connecting!: () => void;
  const isConnecting = new Promise<void>((resolve) => (connecting = resolve));
  const session = new AccountSession(
    { accountId: 'a1', jid: 'alice@example.org', preference: 'auto', password: async () => 'pw', deps: silentDeps },
    callbacks(seen, (s) => s === 'connecting' && connecting()),
  );
  session.start();
  await isConnecting;
  await session.stop();
  const count = seen.statuses.length;
  assert.equal(seen.statuses.at(-1)?.status, 'offline');
  // Give any stray continuation a chance to run: none may report.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(seen.statuses.length, count);
});

test('a secret store that fails puts its own words on the account instead of crashing', async () => {
  const seen: Seen = { statuses: [], logs: [] };
  let failed!: () => void;
  const isFailed = new Promise<void>((resolve) => (failed = resolve));
  const failure = Object.assign(new Error('The password file may be read by others; run chmod 600 secrets.json.'), {
    code: 'secret-file-permissions',
  });
  const session = new AccountSession(
    {
      accountId: 'a1',
      jid: 'alice@example.org',
      preference: 'auto',
      password: () => Promise.reject(failure),
      deps: silentDeps,
    },
    callbacks(seen, (s) => s === 'error' && failed()),
  );
  session.start();
  await isFailed;
  assert.deepEqual(seen.statuses.at(-1)?.error, { code: 'secret-file-permissions', message: failure.message });
  await session.stop();
});

test('a connection that fails is retried with backoff until stop()', async () => {
  const seen: Seen = { statuses: [], logs: [] };
  let errors = 0;
  let twice!: () => void;
  const failedTwice = new Promise<void>((resolve) => (twice = resolve));
  const refusing = (): ConnectDeps => ({
    // An SRV record pointing at a port nothing listens on (port 9 on loopback: refused at once).
    dns: {
      srv: async (name) => ({
        rcode: 'NOERROR',
        dnssec: 'insecure',
        records: name.startsWith('_xmpp-client.') ? [{ priority: 0, weight: 0, port: 9, target: '127.0.0.1' }] : [],
      }),
    },
    hosts: { resolve: async (host) => [host] },
    verify: () => Promise.reject(new Error('not reached')),
    saveRecord: () => undefined,
    hostMeta: null,
  });
  const session = new AccountSession(
    { accountId: 'a1', jid: 'alice@example.org', preference: 'auto', password: async () => 'pw', deps: refusing },
    callbacks(seen, (s) => s === 'error' && ++errors === 2 && twice()),
  );
  session.start();
  await failedTwice;
  await session.stop();
  const errorsSeen = seen.statuses.filter((s) => s.status === 'error');
  assert.equal(errorsSeen.length, 2);
  assert.match(errorsSeen[0]!.error!.message, /refused/);
});
