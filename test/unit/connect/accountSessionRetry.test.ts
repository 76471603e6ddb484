/**
 * account.retry's part of the session: the back-off it waits out is announced (the status in words
 * says "reconnecting in N s"), each candidate tried is announced ("connecting over STARTTLS to
 * host:port"), and `retryNow` skips the wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountSession } from '../../../app/connect/accountSession.ts';
import type { Candidate } from '../../../app/connect/candidate.ts';
import type { ConnectDeps } from '../../../app/connect/connector.ts';
import { sessionCallbacks } from '../../support/sessionCallbacks.ts';

test('a failed attempt announces its candidate and its back-off; retryNow starts the next attempt without waiting', async () => {
  const attempts: Candidate[] = [];
  const delays: number[] = [];
  const errors: number[] = [];
  let onError: () => void = () => undefined;
  let onRetryScheduled: () => void = () => undefined;
  // An SRV record pointing at a port nothing listens on (port 9 on loopback: refused at once).
  const refusing = (): ConnectDeps => ({
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
    attempting: (candidate) => attempts.push(candidate),
  });
  const session = new AccountSession(
    { accountId: 'a1', jid: 'alice@example.org', preference: 'starttls', password: async () => 'pw', deps: refusing },
    sessionCallbacks({
      status(status) {
        if (status === 'error') {
          errors.push(performance.now());
          onError();
        }
      },
      retryScheduled(delayMs) {
        delays.push(delayMs);
        onRetryScheduled();
      },
    }),
  );
  assert.equal(session.retryNow(), false, 'nothing to skip before start');
  const scheduled = new Promise<void>((resolve) => (onRetryScheduled = resolve));
  session.start();
  await scheduled;
  assert.equal(attempts.length, 1);
  assert.deepEqual([attempts[0]!.transport, attempts[0]!.host, attempts[0]!.port], ['starttls', '127.0.0.1', 9]);
  // BACKOFF_MS[0] = 1 s with ±20 % jitter.
  assert.ok(delays[0]! >= 800 && delays[0]! <= 1200, String(delays[0]));

  const secondError = new Promise<void>((resolve) => (onError = resolve));
  const skipped = performance.now();
  assert.equal(session.retryNow(), true);
  assert.equal(session.retryNow(), false, 'an attempt runs now: nothing is waiting');
  await secondError;
  // Without retryNow the second attempt could not start before 800 ms.
  assert.ok(errors[1]! - skipped < 800, `${errors[1]! - skipped} ms`);
  assert.equal(attempts.length, 2);
  await session.stop();
  assert.equal(session.retryNow(), false, 'a stopped session does not retry');
});
