/**
 * The retry policy's classification: which failures move on to the next candidate, which stop the
 * attempt, which need the person, which slow down, and the backoff schedule with its jitter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKOFF_MS,
  backoffDelay,
  candidateAction,
  codeOf,
  failureWeight,
  sessionAction,
  SLOW_DOWN_ATTEMPT,
  type ConnectErrorCode,
} from '../../../app/connect/retryPolicy.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import { StreamError } from '../../../app/xmpp/streamError.ts';

test('candidates: credentials failures stop, a cancel gives up, anything else tries the next one', () => {
  for (const code of [
    'not-authorized',
    'account-disabled',
    'credentials-expired',
    'invalid-mechanism',
    'no-acceptable-mechanism',
  ] as const)
    assert.equal(candidateAction(code), 'stop', code);
  assert.equal(candidateAction('aborted'), 'cancelled');
  for (const code of [
    'connection-refused',
    'connect-timeout',
    'tls-failed',
    'untrusted',
    'wrong-name',
    'dnssec-bogus',
    'tls-unavailable',
    'plaintext-after-proceed',
    'host-unknown',
    'see-other-host',
    'quic-unavailable',
    'internal',
  ] as const)
    assert.equal(candidateAction(code), 'next-candidate', code);
});

test('the most telling failure: a refused proof or login over an unreachable server over QUIC-not-yet', () => {
  assert.equal(failureWeight('quic-unavailable'), 0);
  for (const code of ['connection-refused', 'connect-timeout', 'connect-failed'] as const)
    assert.equal(failureWeight(code), 1, code);
  for (const code of ['untrusted', 'not-authorized', 'tls-failed', 'host-not-found'] as const)
    assert.equal(failureWeight(code), 2, code);
});

test('session: what the person must fix stops retrying; slow-down conditions back off only after a live stream', () => {
  const askPerson: ConnectErrorCode[] = [
    'not-authorized',
    'account-disabled',
    'credentials-expired',
    'no-password',
    'no-service',
    'wrong-name',
    'untrusted',
    'self-signed',
    'bad-trust-anchor',
    'dns-bad-server',
    'secret-file-permissions',
    'secret-file-invalid',
    'secret-store-unavailable',
    'host-unknown',
  ];
  for (const code of askPerson) {
    assert.equal(sessionAction(code, { slowDown: false }), 'ask-person', code);
    assert.equal(sessionAction(code, { slowDown: true }), 'ask-person', code);
  }
  for (const code of ['policy-violation', 'resource-constraint', 'system-shutdown', 'conflict'] as const) {
    assert.equal(sessionAction(code, { slowDown: true }), 'back-off', code);
    assert.equal(sessionAction(code, { slowDown: false }), 'retry', code);
  }
  for (const code of ['connection-refused', 'transport-closed', 'timeout', 'see-other-host', 'internal'] as const)
    assert.equal(sessionAction(code, { slowDown: true }), 'retry', code);
});

test('backoff: 1, 2, 5, 10, 30, 60 s then 60 s again, ±20% jitter; a slow-down starts at 30 s', () => {
  const middle = () => 0.5;
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => backoffDelay(attempt, middle)),
    [1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 60_000, 60_000],
  );
  assert.equal(
    backoffDelay(0, () => 0),
    800,
  );
  assert.equal(
    backoffDelay(5, () => 0.999_999),
    72_000,
  );
  assert.equal(backoffDelay(SLOW_DOWN_ATTEMPT, middle), 30_000);
  assert.equal(BACKOFF_MS.length, 6);
});

test('codeOf: the code of a ConnectError or a StreamError, the fallback without one', () => {
  assert.equal(codeOf(new ConnectError('no-service', 'x')), 'no-service');
  assert.equal(
    codeOf(new StreamError({ code: 'host-unknown', source: 'peer', message: 'x' }), 'closed'),
    'host-unknown',
  );
  assert.equal(codeOf(new Error('no code')), 'internal');
  assert.equal(codeOf(null, 'closed'), 'closed');
  assert.equal(codeOf({ code: '' }, 'no-password'), 'no-password');
});
